import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AttentionShape, Backend, DeviceBuffer } from '../../../../trainer/src/engine/backend';
import { createBackend } from '../../../../trainer/src/engine/backends';
import { loadNativeAddon } from '../../../../trainer/src/engine/native';
import { Random } from '../../../../trainer/src/engine/random';
import { ReferenceBackend } from '../../../../trainer/src/engine/reference';
import { relativeError } from '../../../helpers/trainer/numeric';

const addon = loadNativeAddon();

afterAll(() => {
  addon.useKernels('best');
});

type WindowKind = 'causal' | 'packed' | 'decode' | 'sliding, clamped and empty';

interface Case {
  readonly label: string;
  readonly shape: AttentionShape;
  readonly window: WindowKind;
}

function shape(
  batch: number,
  queries: number,
  keys: number,
  heads: number,
  kvHeads: number,
  headDim: number,
): AttentionShape {
  return { batch, queries, keys, heads, kvHeads, headDim };
}

const CASES: readonly Case[] = [
  { label: 'one query, head dim 2', shape: shape(1, 1, 1, 1, 1, 2), window: 'causal' },
  {
    label: '2 rows of 7 packed tokens, GQA 4/2, head dim 8',
    shape: shape(2, 7, 7, 4, 2, 8),
    window: 'packed',
  },
  { label: '33 causal tokens, GQA 4/2, head dim 64', shape: shape(1, 33, 33, 4, 2, 64), window: 'causal' },
  {
    label: '3 rows decoding 3 tokens into 20 slots, GQA 4/2, head dim 64',
    shape: shape(3, 3, 20, 4, 2, 64),
    window: 'decode',
  },
  {
    label: '2 rows of 9 with a sliding window of 4, clamped and empty windows, GQA 2/1, head dim 12',
    shape: shape(2, 9, 9, 2, 1, 12),
    window: 'sliding, clamped and empty',
  },
  { label: '257 packed tokens, GQA 4/2, head dim 64', shape: shape(1, 257, 257, 4, 2, 64), window: 'packed' },
];

/** start, end (B * T) as the model builds them for each kind of batch. */
function windows(
  kind: WindowKind,
  { batch, queries, keys }: AttentionShape,
): { start: Int32Array; end: Int32Array } {
  const start = new Int32Array(batch * queries);
  const end = new Int32Array(batch * queries);
  for (let b = 0; b < batch; b++) {
    for (let t = 0; t < queries; t++) {
      const row = b * queries + t;
      if (kind === 'causal') {
        start[row] = 0;
        end[row] = t;
      } else if (kind === 'packed') {
        // sequences of 5 tokens packed back to back, shifted per row
        const position = (t + b) % 5;
        start[row] = t - position;
        end[row] = t;
      } else if (kind === 'decode') {
        // 14 + b tokens already cached; query t is the next one
        start[row] = 0;
        end[row] = 14 + b + t;
      } else {
        start[row] = t === 3 ? t + 1 : t - 3;
        end[row] = t === queries - 1 ? keys + 5 : t;
      }
    }
  }
  return { start, end };
}

function floats(random: Random, length: number, low = -1.5, high = 1.5): Float32Array {
  return Float32Array.from({ length }, () => random.uniform(low, high));
}

const FORWARD = ['out', 'logSumExp'] as const;
const BACKWARD = ['dq', 'dk', 'dv'] as const;

/** Forward from random q, k, v, then backward into gradients that start at random values. */
async function attend(backend: Backend, testCase: Case): Promise<Record<string, Float32Array>> {
  const { shape } = testCase;
  const random = Random.fromSeed(shape.batch * 1000 + shape.queries * 10 + shape.headDim);
  const qSize = shape.batch * shape.queries * shape.heads * shape.headDim;
  const kvSize = shape.batch * shape.keys * shape.kvHeads * shape.headDim;
  const lseSize = shape.batch * shape.heads * shape.queries;
  const values: Record<string, Float32Array> = {
    q: floats(random, qSize),
    k: floats(random, kvSize),
    v: floats(random, kvSize),
    out: floats(random, qSize),
    logSumExp: floats(random, lseSize),
    dout: floats(random, qSize),
    dq: floats(random, qSize),
    dk: floats(random, kvSize),
    dv: floats(random, kvSize),
  };
  const buffers: Record<string, DeviceBuffer> = {};
  for (const [name, data] of Object.entries(values)) {
    buffers[name] = backend.allocate('f32', data.length);
    backend.write(buffers[name], data);
  }
  const { start, end } = windows(testCase.window, shape);
  const window = { start: backend.allocate('i32', start.length), end: backend.allocate('i32', end.length) };
  backend.write(window.start, start);
  backend.write(window.end, end);
  const b = buffers as Record<keyof typeof values, DeviceBuffer>;
  backend.attentionForward(b.out!, b.logSumExp!, b.q!, b.k!, b.v!, window, shape);
  backend.attentionBackward(
    b.dq!,
    b.dk!,
    b.dv!,
    b.dout!,
    b.q!,
    b.k!,
    b.v!,
    b.out!,
    b.logSumExp!,
    window,
    shape,
  );
  const names = [...FORWARD, ...BACKWARD];
  const read = await Promise.all(names.map((name) => backend.read(buffers[name]!)));
  return Object.fromEntries(names.map((name, i) => [name, read[i] as Float32Array]));
}

describe.each(['best', 'scalar'] as const)('native attention, %s build', (kernels) => {
  beforeAll(() => {
    addon.useKernels(kernels);
  });

  it.each(CASES)(
    'equals the reference on $label ($window): out, logSumExp, and dq, dk, dv added to their start, within 1e-4 relative',
    async (testCase) => {
      // Act
      const [expected, actual] = await Promise.all([
        attend(new ReferenceBackend(), testCase),
        attend(createBackend('native'), testCase),
      ]);

      // Assess: max |native - reference| / max |reference| per tensor
      for (const name of [...FORWARD, ...BACKWARD]) {
        expect(relativeError(actual[name]!, expected[name]!), name).toBeLessThan(1e-4);
      }
    },
  );
});

describe('native attention windows', () => {
  it('gives a query with an empty window zeros and a logSumExp of 0, and adds nothing to the gradients', async () => {
    // Prepare
    const native = createBackend('native');
    const dims = shape(1, 2, 2, 1, 1, 8);
    const make = (values: number[]) => {
      const buffer = native.allocate('f32', values.length);
      native.write(buffer, values);
      return buffer;
    };
    const ones = (length: number) => make(Array.from({ length }, () => 1));
    const [q, k, v, dout] = [ones(16), ones(16), ones(16), ones(16)];
    const out = make(Array.from({ length: 16 }, () => 9));
    const logSumExp = make([9, 9]);
    const [dq, dk, dv] = [ones(16), ones(16), ones(16)];
    const window = { start: native.allocate('i32', 2), end: native.allocate('i32', 2) };
    native.write(window.start, [1, 0]);
    native.write(window.end, [0, 1]);

    // Act
    native.attentionForward(out, logSumExp, q, k, v, window, dims);
    native.attentionBackward(dq, dk, dv, dout, q, k, v, out, logSumExp, window, dims);

    // Assess: query 1 sees two equal keys, so it averages v and its score gradients cancel
    expect([...(await native.read(out))]).toEqual([...Array(8).fill(0), ...Array(8).fill(1)]);
    const lse = await native.read(logSumExp);
    expect(lse[0]).toBe(0);
    expect(lse[1]).toBeCloseTo(Math.sqrt(8) + Math.log(2), 5);
    expect([...(await native.read(dq))]).toEqual(Array(16).fill(1));
    for (const value of await native.read(dv)) expect(value).toBeCloseTo(1.5, 6);
  });

  it('rejects heads that key/value heads do not divide, with the reference message', () => {
    // Prepare
    const native = createBackend('native');
    const buffer = native.allocate('f32', 64);
    const index = native.allocate('i32', 1);

    // Act
    const act = () =>
      native.attentionForward(
        buffer,
        buffer,
        buffer,
        buffer,
        buffer,
        { start: index, end: index },
        shape(1, 1, 1, 3, 2, 2),
      );

    // Assess
    expect(act).toThrow('attention: 3 heads are not a multiple of 2 key/value heads');
  });
});

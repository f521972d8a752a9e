import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Backend, DeviceBuffer } from '../../../../trainer/src/engine/backend';
import { createBackend } from '../../../../trainer/src/engine/backends';
import { loadNativeAddon } from '../../../../trainer/src/engine/native';
import { Random } from '../../../../trainer/src/engine/random';
import { ReferenceBackend } from '../../../../trainer/src/engine/reference';
import { largestDifference, relativeError } from '../../../helpers/trainer/numeric';

const addon = loadNativeAddon();

afterAll(() => {
  addon.useKernels('best');
});

type Arrays = Record<string, Float32Array | Int32Array>;
type Buffers = Record<string, DeviceBuffer>;

function floats(random: Random, length: number, low = -1, high = 1): Float32Array {
  return Float32Array.from({ length }, () => random.uniform(low, high));
}

function ints(random: Random, length: number, bound: number): Int32Array {
  return Int32Array.from({ length }, () => random.below(bound));
}

/** Writes `inputs` into fresh buffers of `backend`, runs the kernel, and reads back `outputs`. */
async function run(
  backend: Backend,
  inputs: Arrays,
  kernel: (backend: Backend, buffers: Buffers) => void,
  outputs: readonly string[],
): Promise<Arrays> {
  const buffers: Buffers = {};
  for (const [name, values] of Object.entries(inputs)) {
    buffers[name] = backend.allocate(values instanceof Int32Array ? 'i32' : 'f32', values.length);
    backend.write(buffers[name], values);
  }
  kernel(backend, buffers);
  const read = await Promise.all(outputs.map((name) => backend.read(buffers[name]!)));
  return Object.fromEntries(outputs.map((name, i) => [name, read[i]!]));
}

/** max |a - b| / max |b|, or max |a - b| where b is all zeros (a loss over a vocabulary of one). */
function errorOf(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  const allZero = Array.prototype.every.call(expected, (value: number) => value === 0);
  return allZero ? largestDifference(actual, expected) : relativeError(actual, expected);
}

/**
 * {@link errorOf} native against reference for each output, both back ends starting from the
 * same inputs; outputs that are gradients start at random values, so a kernel that overwrote
 * instead of adding would be off by about 1.
 */
async function nativeErrors(
  inputs: Arrays,
  kernel: (backend: Backend, buffers: Buffers) => void,
  outputs: readonly string[],
): Promise<Record<string, number>> {
  const [expected, actual] = await Promise.all([
    run(new ReferenceBackend(), inputs, kernel, outputs),
    run(createBackend('native'), inputs, kernel, outputs),
  ]);
  return Object.fromEntries(outputs.map((name) => [name, errorOf(actual[name]!, expected[name]!)]));
}

function expectWithin(errors: Record<string, number>, tolerance: number): void {
  for (const [name, error] of Object.entries(errors)) expect(error, name).toBeLessThan(tolerance);
}

// The last size of each list is large enough that the kernel splits across threads (past 2^17
// floats), in parts that do not end on a whole vector.
const SIZES = [1, 3, 7, 33, 257, 4099, 200_003] as const;
const ROWS_COLS = [
  [1, 1],
  [3, 7],
  [7, 64],
  [33, 257],
  [257, 33],
  [1031, 257],
] as const;

describe.each(['best', 'scalar'] as const)('native elementwise kernels, %s build', (kernels) => {
  beforeAll(() => {
    addon.useKernels(kernels);
  });

  it.each(SIZES)(
    'add, multiply, multiply-accumulate, axpy and scale equal the reference on %d elements, within 1e-5',
    async (n) => {
      // Prepare
      const random = Random.fromSeed(n);
      const inputs = {
        a: floats(random, n),
        b: floats(random, n),
        sum: floats(random, n),
        product: floats(random, n),
        accumulated: floats(random, n),
        y: floats(random, n),
        scaled: floats(random, n),
      };

      // Act
      const errors = await nativeErrors(
        inputs,
        (backend, { a, b, sum, product, accumulated, y, scaled }) => {
          backend.add(sum!, a!, b!);
          backend.multiply(product!, a!, b!);
          backend.multiply(accumulated!, a!, b!, true);
          backend.axpy(y!, a!, -0.37);
          backend.scale(scaled!, 1.7);
        },
        ['sum', 'product', 'accumulated', 'y', 'scaled'],
      );

      // Assess
      expectWithin(errors, 1e-5);
    },
  );

  it.each([1, 7, 257, 100_003, 300_007])(
    'sumOfSquares equals the reference on %d elements, within 1e-5',
    async (n) => {
      // Prepare
      const random = Random.fromSeed(n + 1);
      const inputs = { out: new Float32Array([5]), x: floats(random, n, -3, 3) };

      // Act
      const errors = await nativeErrors(inputs, (backend, { out, x }) => backend.sumOfSquares(out!, x!), [
        'out',
      ]);

      // Assess
      expectWithin(errors, 1e-5);
    },
  );

  it.each([
    [0.5, 'shrinks'],
    [1e6, 'leaves'],
  ])('clipToNorm with max norm %d %s the gradients as the reference does', async (maxNorm) => {
    // Prepare
    const random = Random.fromSeed(11);
    const x = floats(random, 1001);
    const squares = x.reduce((sum, value) => sum + value * value, 0);
    const inputs = { x, squares: new Float32Array([squares]) };

    // Act
    const errors = await nativeErrors(
      inputs,
      (backend, { x, squares }) => backend.clipToNorm(x!, squares!, maxNorm),
      ['x'],
    );

    // Assess
    expectWithin(errors, 1e-6);
  });

  it.each([
    [0, 9],
    [0.1, 12345],
    [0.5, 4_000_000_000],
  ])(
    'dropoutMask with probability %d and seed %d draws the reference mask exactly',
    async (probability, seed) => {
      // Prepare
      const inputs = { mask: new Float32Array(4099) };

      // Act
      const [expected, actual] = await Promise.all(
        [new ReferenceBackend(), createBackend('native')].map((backend) =>
          run(backend, inputs, (b, { mask }) => b.dropoutMask(mask!, probability, seed), ['mask']),
        ),
      );

      // Assess
      expect(actual!.mask).toEqual(expected!.mask);
      const dropped = [...actual!.mask!].filter((value) => value === 0).length;
      expect(dropped / 4099).toBeCloseTo(probability, 1);
    },
  );

  it.each(ROWS_COLS)(
    'addRowVector and sumRows equal the reference on (%d, %d), within 1e-5',
    async (rows, cols) => {
      // Prepare
      const random = Random.fromSeed(rows * 1000 + cols);
      const inputs = {
        out: floats(random, rows * cols),
        vector: floats(random, cols),
        sums: floats(random, cols),
        x: floats(random, rows * cols),
      };

      // Act
      const errors = await nativeErrors(
        inputs,
        (backend, { out, vector, sums, x }) => {
          backend.addRowVector(out!, vector!, rows, cols);
          backend.sumRows(sums!, x!, rows, cols);
        },
        ['out', 'sums'],
      );

      // Assess
      expectWithin(errors, 1e-5);
    },
  );

  it.each([
    [1, 1],
    [7, 33],
    [257, 64],
  ])(
    'embeddingForward and embeddingBackward equal the reference on %d tokens of %d channels, repeated tokens adding up',
    async (count, channels) => {
      // Prepare
      const random = Random.fromSeed(count + channels);
      const vocab = 37;
      const inputs = {
        table: floats(random, vocab * channels),
        tokens: ints(random, count, count > 7 ? 5 : vocab),
        out: floats(random, count * channels),
        dtable: floats(random, vocab * channels),
        dout: floats(random, count * channels),
      };

      // Act
      const errors = await nativeErrors(
        inputs,
        (backend, { table, tokens, out, dtable, dout }) => {
          backend.embeddingForward(out!, table!, tokens!, count, channels);
          backend.embeddingBackward(dtable!, dout!, tokens!, count, channels);
        },
        ['out', 'dtable'],
      );

      // Assess
      expect(errors.out).toBe(0);
      expectWithin(errors, 1e-5);
    },
  );

  it.each(ROWS_COLS)(
    'rmsNormForward and rmsNormBackward equal the reference on (%d, %d), within 1e-5',
    async (rows, cols) => {
      // Prepare
      const random = Random.fromSeed(rows * 7 + cols);
      const inputs = {
        x: floats(random, rows * cols, -2, 2),
        weight: floats(random, cols, 0.5, 1.5),
        out: new Float32Array(rows * cols),
        rstd: new Float32Array(rows),
        dout: floats(random, rows * cols),
        dx: floats(random, rows * cols),
        dweight: floats(random, cols),
        dxFrozen: floats(random, rows * cols),
      };

      // Act
      const errors = await nativeErrors(
        inputs,
        (backend, { x, weight, out, rstd, dout, dx, dweight, dxFrozen }) => {
          backend.rmsNormForward(out!, rstd!, x!, weight!, rows, cols, 1e-5);
          backend.rmsNormBackward(dx!, dweight!, dout!, x!, weight!, rstd!, rows, cols);
          backend.rmsNormBackward(dxFrozen!, null, dout!, x!, weight!, rstd!, rows, cols);
        },
        ['out', 'rstd', 'dx', 'dweight', 'dxFrozen'],
      );

      // Assess
      expectWithin(errors, 1e-5);
    },
  );

  it.each([
    [1, 1, 2],
    [7, 3, 8],
    [33, 2, 64],
    [257, 1, 8],
    [3, 4, 18],
    [1031, 4, 64],
  ])(
    'ropeForward and ropeBackward equal the reference on %d tokens, %d heads of %d',
    async (count, heads, headDim) => {
      // Prepare
      const random = Random.fromSeed(count * 100 + heads * 10 + headDim);
      const positionsInTable = 300;
      const angles = Float64Array.from({ length: positionsInTable * (headDim / 2) }, (_, i) => {
        const position = Math.floor(i / (headDim / 2));
        const pair = i % (headDim / 2);
        return position / 10_000 ** ((2 * pair) / headDim);
      });
      const inputs = {
        cos: Float32Array.from(angles, Math.cos),
        sin: Float32Array.from(angles, Math.sin),
        positions: ints(random, count, positionsInTable),
        x: floats(random, count * heads * headDim),
        dx: floats(random, count * heads * headDim),
      };

      // Act
      const errors = await nativeErrors(
        inputs,
        (backend, { cos, sin, positions, x, dx }) => {
          backend.ropeForward(x!, positions!, cos!, sin!, count, heads, headDim);
          backend.ropeBackward(dx!, positions!, cos!, sin!, count, heads, headDim);
        },
        ['x', 'dx'],
      );

      // Assess
      expectWithin(errors, 1e-5);
    },
  );

  it.each(SIZES)(
    'swigluForward and swigluBackward equal the reference on %d elements, gates in [-12, 12]',
    async (n) => {
      // Prepare
      const random = Random.fromSeed(n + 5);
      const inputs = {
        gate: floats(random, n, -12, 12),
        up: floats(random, n),
        out: new Float32Array(n),
        dout: floats(random, n),
        dgate: floats(random, n),
        dup: floats(random, n),
      };

      // Act
      const errors = await nativeErrors(
        inputs,
        (backend, { gate, up, out, dout, dgate, dup }) => {
          backend.swigluForward(out!, gate!, up!);
          backend.swigluBackward(dgate!, dup!, dout!, gate!, up!);
        },
        ['out', 'dgate', 'dup'],
      );

      // Assess
      expectWithin(errors, 1e-5);
    },
  );

  it.each([
    [1, 1],
    [3, 7],
    [7, 257],
    [33, 1000],
    [257, 33],
    [67, 4099],
  ])(
    'crossEntropyForward and crossEntropyBackward equal the reference on %d rows of %d logits, in place too',
    async (rows, vocab) => {
      // Prepare
      const random = Random.fromSeed(rows * 3 + vocab);
      const logits = floats(random, rows * vocab, -10, 10);
      const inputs = {
        logits,
        inPlace: logits.slice(),
        targets: ints(random, rows, vocab),
        weights: floats(random, rows, 0, 1),
        losses: new Float32Array(rows),
        dlogits: floats(random, rows * vocab),
      };

      // Act
      const errors = await nativeErrors(
        inputs,
        (backend, { logits, inPlace, targets, weights, losses, dlogits }) => {
          backend.crossEntropyForward(losses!, logits!, targets!, rows, vocab);
          backend.crossEntropyBackward(dlogits!, logits!, targets!, weights!, 0.25, rows, vocab);
          backend.crossEntropyBackward(inPlace!, inPlace!, targets!, weights!, 0.25, rows, vocab);
        },
        ['losses', 'dlogits', 'inPlace'],
      );

      // Assess
      expectWithin(errors, 1e-5);
    },
  );

  it.each([
    [1, 1],
    [7, 9],
    [33, 257],
    [3, 4096],
    [67, 4099],
  ])('argmax equals the reference on %d rows of %d, taking the first of tied values', async (rows, cols) => {
    // Prepare: values on a coarse grid, so rows hold ties for the largest
    const random = Random.fromSeed(rows + cols);
    const inputs = {
      x: Float32Array.from({ length: rows * cols }, () => random.below(5) - 2),
      out: new Int32Array(rows),
    };

    // Act
    const [expected, actual] = await Promise.all(
      [new ReferenceBackend(), createBackend('native')].map((backend) =>
        run(backend, inputs, (b, { x, out }) => b.argmax(out!, x!, rows, cols), ['out']),
      ),
    );

    // Assess
    expect(actual!.out).toEqual(expected!.out);
  });

  it.each([
    [1, 1],
    [7, 3],
    [4099, 10],
    [200_003, 2],
  ])('adamw equals the reference on %d parameters at step %d, within 1e-5', async (n, step) => {
    // Prepare
    const random = Random.fromSeed(n * 10 + step);
    const inputs = {
      param: floats(random, n),
      grad: floats(random, n, -0.1, 0.1),
      m: floats(random, n, -0.01, 0.01),
      v: floats(random, n, 0, 1e-4),
    };
    const hyper = { learningRate: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0.01, step };

    // Act
    const errors = await nativeErrors(
      inputs,
      (backend, { param, grad, m, v }) => {
        backend.adamw(param!, grad!, m!, v!, hyper);
        backend.adamw(param!, grad!, m!, v!, { ...hyper, step: step + 1 });
      },
      ['param', 'm', 'v'],
    );

    // Assess
    expectWithin(errors, 1e-5);
  });
});

describe('native kernel selection and argument checks', () => {
  it('switches every kernel between the portable build and the widest this CPU runs', () => {
    // Act
    const forced = addon.useKernels('scalar');
    const best = addon.useKernels('best');

    // Assess
    expect(forced).toBe('scalar');
    expect(['avx2', 'scalar']).toContain(best);
    expect(() => addon.useKernels('fastest' as 'best')).toThrow("useKernels takes 'scalar' or 'best'");
  });

  it('rejects a short argument with the reference back end message', () => {
    // Prepare
    const native = createBackend('native');
    const out = native.allocate('f32', 4);
    const short = native.allocate('f32', 3);

    // Act
    const act = () => native.add(out, out, short);

    // Assess
    expect(act).toThrow('add: b has 3 elements where 4 are needed');
  });

  it('rejects a token, target or position outside its table before writing anything', async () => {
    // Prepare
    const native = createBackend('native');
    const table = native.allocate('f32', 4 * 2);
    const out = native.allocate('f32', 3 * 2);
    native.write(out, [1, 2, 3, 4, 5, 6]);
    const indices = native.allocate('i32', 3);
    native.write(indices, [0, 4, -1]);
    const logits = native.allocate('f32', 3 * 4);
    const losses = native.allocate('f32', 3);
    const cos = native.allocate('f32', 8);

    // Act
    const embedding = () => native.embeddingForward(out, table, indices, 3, 2);
    const loss = () => native.crossEntropyForward(losses, logits, indices, 3, 4);
    const rope = () => native.ropeForward(out, indices, cos, cos, 3, 1, 2);

    // Assess
    expect(embedding).toThrow('embeddingForward: tokens[1] is 4, outside the 4 rows of the table');
    expect(loss).toThrow('crossEntropyForward: targets[1] is 4, outside the vocabulary of 4');
    expect(rope).toThrow('ropeForward: positions[2] is -1, outside the 8 rows of the cos and sin tables');
    expect([...(await native.read(out))]).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('rejects an odd head dimension for rotate-half RoPE', () => {
    // Prepare
    const native = createBackend('native');
    const x = native.allocate('f32', 3);
    const positions = native.allocate('i32', 1);
    const cos = native.allocate('f32', 4);

    // Act
    const act = () => native.ropeForward(x, positions, cos, cos, 1, 1, 3);

    // Assess
    expect(act).toThrow('ropeForward: head dimension 3 is odd; rotate-half pairs need an even one');
  });
});

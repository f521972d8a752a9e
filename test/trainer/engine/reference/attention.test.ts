import { describe, expect, it } from 'vitest';
import type { AttentionShape } from '../../../../trainer/src/engine/backend';
import { Random } from '../../../../trainer/src/engine/random';
import { ReferenceBackend } from '../../../../trainer/src/engine/reference';
import { expectClose } from '../../../helpers/trainer/assertions';
import { bufferFrom, randomValues } from '../../../helpers/trainer/gradient-check';

interface Inputs {
  readonly q: ArrayLike<number>;
  readonly k: ArrayLike<number>;
  readonly v: ArrayLike<number>;
  readonly start: readonly number[];
  readonly end: readonly number[];
}

/**
 * Attention written out from its definition: the full score matrix of each (row, head), keys
 * outside the window set to -Infinity, then softmax(scores) @ v. out (B, T, NH, HD), lse (B, NH, T).
 */
function naiveAttention(inputs: Inputs, shape: AttentionShape): { out: number[]; lse: number[] } {
  const { batch, queries: T, keys: S, heads: NH, kvHeads: NKV, headDim: HD } = shape;
  const out = new Array<number>(batch * T * NH * HD).fill(0);
  const lse = new Array<number>(batch * NH * T).fill(0);
  for (let b = 0; b < batch; b++) {
    for (let t = 0; t < T; t++) {
      for (let h = 0; h < NH; h++) {
        const kvHead = Math.floor((h * NKV) / NH);
        const scores: number[] = [];
        for (let s = 0; s < S; s++) {
          const row = b * T + t;
          if (s < inputs.start[row]! || s > inputs.end[row]!) {
            scores.push(Number.NEGATIVE_INFINITY);
            continue;
          }
          let score = 0;
          for (let d = 0; d < HD; d++) {
            score +=
              inputs.q[((b * T + t) * NH + h) * HD + d]! * inputs.k[((b * S + s) * NKV + kvHead) * HD + d]!;
          }
          scores.push(score / Math.sqrt(HD));
        }
        const total = scores.reduce((sum, score) => sum + Math.exp(score), 0);
        if (total === 0) continue;
        lse[(b * NH + h) * T + t] = Math.log(total);
        for (let s = 0; s < S; s++) {
          const p = Math.exp(scores[s]!) / total;
          for (let d = 0; d < HD; d++) {
            out[((b * T + t) * NH + h) * HD + d]! += p * inputs.v[((b * S + s) * NKV + kvHead) * HD + d]!;
          }
        }
      }
    }
  }
  return { out, lse };
}

function runForward(backend: ReferenceBackend, inputs: Inputs, shape: AttentionShape) {
  const out = backend.allocate('f32', shape.batch * shape.queries * shape.heads * shape.headDim);
  const lse = backend.allocate('f32', shape.batch * shape.heads * shape.queries);
  backend.attentionForward(
    out,
    lse,
    bufferFrom(backend, inputs.q),
    bufferFrom(backend, inputs.k),
    bufferFrom(backend, inputs.v),
    { start: bufferFrom(backend, inputs.start, 'i32'), end: bufferFrom(backend, inputs.end, 'i32') },
    shape,
  );
  return { out: Array.from(backend.elements(out)), lse: Array.from(backend.elements(lse)) };
}

function randomInputs(seed: number, shape: AttentionShape, start: number[], end: number[]): Inputs {
  const random = Random.fromSeed(seed);
  const { batch, queries, keys, heads, kvHeads, headDim } = shape;
  return {
    q: randomValues(random, batch * queries * heads * headDim),
    k: randomValues(random, batch * keys * kvHeads * headDim),
    v: randomValues(random, batch * keys * kvHeads * headDim),
    start,
    end,
  };
}

describe('reference attention forward', () => {
  it('matches a hand-computed causal example', () => {
    // Prepare: HD = 2, so scores are q.k / sqrt(2). Query 0 sees key 0 alone; query 1 scores key 0
    // at ln 3 and key 1 at 0, so its weights are 3/4 and 1/4.
    const backend = new ReferenceBackend('f64');
    const shape = { batch: 1, queries: 2, keys: 2, heads: 1, kvHeads: 1, headDim: 2 };
    const inputs = {
      q: [1, 0, Math.SQRT2 * Math.log(3), 0],
      k: [1, 0, 0, 1],
      v: [4, 8, -4, 0],
      start: [0, 0],
      end: [0, 1],
    };

    // Act
    const { out, lse } = runForward(backend, inputs, shape);

    // Assess
    expectClose(out, [4, 8, 2, 6], 1e-14);
    expectClose(lse, [Math.SQRT1_2, Math.log(4)], 1e-14);
  });

  it('lets query head h read key/value head h / (NH / NKV)', () => {
    // Prepare: one key per row, so each head's output is its key/value head's value exactly.
    const backend = new ReferenceBackend('f64');
    const shape = { batch: 1, queries: 1, keys: 1, heads: 4, kvHeads: 2, headDim: 2 };
    const inputs = {
      q: [1, 2, 3, 4, 5, 6, 7, 8],
      k: [1, 0, 0, 1],
      v: [10, 20, 30, 40],
      start: [0],
      end: [0],
    };

    // Act
    const { out, lse } = runForward(backend, inputs, shape);

    // Assess
    expect(out).toEqual([10, 20, 10, 20, 30, 40, 30, 40]);
    expectClose(
      lse,
      [1, 3, 6, 8].map((score) => score / Math.SQRT2),
      1e-13,
    );
  });

  it('matches the definition with GQA (NH 4, NKV 2) over causal rows', () => {
    // Prepare: B = 2 rows of T = 3
    const backend = new ReferenceBackend('f64');
    const shape = { batch: 2, queries: 3, keys: 3, heads: 4, kvHeads: 2, headDim: 2 };
    const inputs = randomInputs(1, shape, [0, 0, 0, 0, 0, 0], [0, 1, 2, 0, 1, 2]);

    // Act
    const actual = runForward(backend, inputs, shape);

    // Assess
    const expected = naiveAttention(inputs, shape);
    expectClose(actual.out, expected.out, 1e-13);
    expectClose(actual.lse, expected.lse, 1e-13);
  });

  it('keeps packed sequences apart: each attends as if it were alone', () => {
    // Prepare: one row of T = 5 holding sequences [0, 3) and [3, 5): positions 0 1 2 0 1
    const backend = new ReferenceBackend('f64');
    const [NH, NKV, HD] = [4, 2, 2];
    const packedShape = { batch: 1, queries: 5, keys: 5, heads: NH, kvHeads: NKV, headDim: HD };
    const packed = randomInputs(2, packedShape, [0, 0, 0, 3, 3], [0, 1, 2, 3, 4]);
    const segment = (from: number, to: number): Inputs => ({
      q: Array.from(packed.q).slice(from * NH * HD, to * NH * HD),
      k: Array.from(packed.k).slice(from * NKV * HD, to * NKV * HD),
      v: Array.from(packed.v).slice(from * NKV * HD, to * NKV * HD),
      start: new Array(to - from).fill(0),
      end: Array.from({ length: to - from }, (_, t) => t),
    });
    const alone = (length: number) => ({ ...packedShape, queries: length, keys: length });

    // Act
    const together = runForward(backend, packed, packedShape);
    const first = runForward(backend, segment(0, 3), alone(3));
    const second = runForward(backend, segment(3, 5), alone(2));

    // Assess
    expectClose(together.out, [...first.out, ...second.out], 1e-14);
    for (let h = 0; h < NH; h++) {
      expectClose(
        together.lse.slice(h * 5, h * 5 + 5),
        [...first.lse.slice(h * 3, h * 3 + 3), ...second.lse.slice(h * 2, h * 2 + 2)],
        1e-13,
      );
    }
    expectClose(together.out, naiveAttention(packed, packedShape).out, 1e-13);
  });

  it('gives zeros (and a zero logSumExp) to a query whose window is empty', () => {
    // Prepare: query 1's window [2, 1] is empty; NaNs in out must be overwritten
    const backend = new ReferenceBackend('f64');
    const shape = { batch: 1, queries: 3, keys: 3, heads: 4, kvHeads: 2, headDim: 2 };
    const inputs = randomInputs(3, shape, [0, 2, 0], [0, 1, 2]);
    const out = bufferFrom(backend, new Array(3 * 4 * 2).fill(Number.NaN));
    const lse = bufferFrom(backend, new Array(4 * 3).fill(Number.NaN));

    // Act
    backend.attentionForward(
      out,
      lse,
      bufferFrom(backend, inputs.q),
      bufferFrom(backend, inputs.k),
      bufferFrom(backend, inputs.v),
      { start: bufferFrom(backend, inputs.start, 'i32'), end: bufferFrom(backend, inputs.end, 'i32') },
      shape,
    );

    // Assess
    const actual = Array.from(backend.elements(out));
    expect(actual.slice(8, 16)).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    expect([1, 4, 7, 10].map((i) => backend.elements(lse)[i])).toEqual([0, 0, 0, 0]);
    expectClose(actual, naiveAttention(inputs, shape).out, 1e-13);
  });

  it('decodes over a larger key cache, reading only the slots its window names', () => {
    // Prepare: 2 new queries at positions 3 and 4 of a cache of S = 7 slots; slots 5 and 6 hold
    // values that would dominate any query that saw them.
    const backend = new ReferenceBackend('f64');
    const shape = { batch: 1, queries: 2, keys: 7, heads: 4, kvHeads: 2, headDim: 2 };
    const inputs = randomInputs(4, shape, [0, 0], [3, 4]);
    const k = Array.from(inputs.k);
    const v = Array.from(inputs.v);
    for (let i = 5 * 2 * 2; i < 7 * 2 * 2; i++) {
      k[i] = 1e3;
      v[i] = 1e6;
    }

    // Act
    const actual = runForward(backend, { ...inputs, k, v }, shape);

    // Assess: as if the cache ended at slot 4
    const trimmed = { ...inputs, k: k.slice(0, 5 * 4), v: v.slice(0, 5 * 4) };
    const expected = runForward(backend, trimmed, { ...shape, keys: 5 });
    expect(actual.out).toEqual(expected.out);
    expect(actual.lse).toEqual(expected.lse);
    expectClose(actual.out, naiveAttention(inputs, shape).out, 1e-13);
  });
});

describe('reference attention backward', () => {
  it('adds nothing for a query with an empty window', () => {
    // Prepare
    const backend = new ReferenceBackend('f64');
    const shape = { batch: 1, queries: 1, keys: 3, heads: 2, kvHeads: 1, headDim: 2 };
    const inputs = randomInputs(5, shape, [2], [1]);
    const window = {
      start: bufferFrom(backend, inputs.start, 'i32'),
      end: bufferFrom(backend, inputs.end, 'i32'),
    };
    const [q, k, v] = [
      bufferFrom(backend, inputs.q),
      bufferFrom(backend, inputs.k),
      bufferFrom(backend, inputs.v),
    ];
    const out = backend.allocate('f32', 4);
    const lse = backend.allocate('f32', 2);
    backend.attentionForward(out, lse, q, k, v, window, shape);
    const dq = bufferFrom(backend, [1, 2, 3, 4]);
    const dk = bufferFrom(backend, [5, 6, 7, 8, 9, 10]);
    const dv = bufferFrom(backend, [11, 12, 13, 14, 15, 16]);

    // Act
    backend.attentionBackward(
      dq,
      dk,
      dv,
      bufferFrom(backend, [1, 1, 1, 1]),
      q,
      k,
      v,
      out,
      lse,
      window,
      shape,
    );

    // Assess
    expect(Array.from(backend.elements(dq))).toEqual([1, 2, 3, 4]);
    expect(Array.from(backend.elements(dk))).toEqual([5, 6, 7, 8, 9, 10]);
    expect(Array.from(backend.elements(dv))).toEqual([11, 12, 13, 14, 15, 16]);
  });
});

/*
 * Every backward kernel against central finite differences in float64: h = 1e-6, relative error
 * (max |analytic - numeric| / max |gradient| per input) below 1e-6. Each forward output is reduced
 * to L = sum(r * out) with r random, so every output element matters and dL/dout = r. Gradients
 * that kernels add into start from random values, so the checks also prove they add.
 */
import { describe, expect, it } from 'vitest';
import type { AttentionShape, DeviceBuffer } from '../../../../trainer/src/engine/backend';
import { Random } from '../../../../trainer/src/engine/random';
import { ReferenceBackend } from '../../../../trainer/src/engine/reference';
import type { FloatArray } from '../../../../trainer/src/engine/reference/arrays';
import {
  added,
  bufferFrom,
  dot,
  expectGradient,
  randomValues,
} from '../../../helpers/trainer/gradient-check';

const backend = new ReferenceBackend('f64');

function values(buffer: DeviceBuffer): FloatArray {
  return backend.elements(buffer) as FloatArray;
}

function randomBuffer(random: Random, length: number, scale = 1): DeviceBuffer {
  return bufferFrom(backend, randomValues(random, length, scale));
}

/** A gradient buffer holding random values, and a copy of them to subtract afterwards. */
function prefilledGradient(random: Random, length: number): { buffer: DeviceBuffer; before: Float64Array } {
  const before = randomValues(random, length);
  return { buffer: bufferFrom(backend, before), before };
}

describe('finite-difference gradient checks of the reference kernels (float64)', () => {
  // The model's backward uses matmul with each layout for the gradients of both operands.
  describe.each([
    { transA: false, transB: false },
    { transA: true, transB: false },
    { transA: false, transB: true },
    { transA: true, transB: true },
  ])('matmul, transA $transA, transB $transB', ({ transA, transB }) => {
    it('dA and dB from matmuls of dout with the other operand', () => {
      // Prepare: out (M, N) = 1.5 op(a) (M, K) @ op(b) (K, N)
      const random = Random.fromSeed(11);
      const [m, n, k] = [3, 5, 7];
      const alpha = 1.5;
      const a = randomBuffer(random, m * k);
      const b = randomBuffer(random, k * n);
      const r = randomBuffer(random, m * n);
      const out = backend.allocate('f32', m * n);
      const loss = () => {
        backend.matmul(out, a, b, { m, n, k }, { transA, transB, alpha });
        return dot(values(r), values(out));
      };
      const da = prefilledGradient(random, m * k);
      const db = prefilledGradient(random, k * n);

      // Act: dop(a) = alpha r op(b)^T, dop(b) = alpha op(a)^T r, stored in each operand's layout
      if (transA) {
        backend.matmul(
          da.buffer,
          b,
          r,
          { m: k, n: m, k: n },
          { transA: transB, transB: true, alpha, accumulate: true },
        );
      } else {
        backend.matmul(da.buffer, r, b, { m, n: k, k: n }, { transB: !transB, alpha, accumulate: true });
      }
      if (transB) {
        backend.matmul(
          db.buffer,
          r,
          a,
          { m: n, n: k, k: m },
          { transA: true, transB: transA, alpha, accumulate: true },
        );
      } else {
        backend.matmul(db.buffer, a, r, { m: k, n, k: m }, { transA: !transA, alpha, accumulate: true });
      }

      // Assess
      expectGradient('da', { loss, input: values(a), analytic: added(values(da.buffer), da.before) });
      expectGradient('db', { loss, input: values(b), analytic: added(values(db.buffer), db.before) });
    });
  });

  it('bias: addRowVector forward, sumRows backward', () => {
    // Prepare: out (7, 3) = x + bias
    const random = Random.fromSeed(12);
    const [rows, cols] = [7, 3];
    const x = randomBuffer(random, rows * cols);
    const bias = randomBuffer(random, cols);
    const r = randomBuffer(random, rows * cols);
    const out = backend.allocate('f32', rows * cols);
    const loss = () => {
      backend.copy(out, x);
      backend.addRowVector(out, bias, rows, cols);
      return dot(values(r), values(out));
    };
    const dbias = prefilledGradient(random, cols);

    // Act
    backend.sumRows(dbias.buffer, r, rows, cols);

    // Assess
    expectGradient('dbias', {
      loss,
      input: values(bias),
      analytic: added(values(dbias.buffer), dbias.before),
    });
    expectGradient('dx', { loss, input: values(x), analytic: values(r) });
  });

  it('embedding: backward adds every occurrence of a repeated token', () => {
    // Prepare: table (V = 5, C = 3), tokens (N = 7) with 4 three times and 1 twice; row 2 unused
    const random = Random.fromSeed(13);
    const [vocab, channels, count] = [5, 3, 7];
    const table = randomBuffer(random, vocab * channels);
    const tokens = bufferFrom(backend, [4, 1, 4, 4, 0, 1, 3], 'i32');
    const r = randomBuffer(random, count * channels);
    const out = backend.allocate('f32', count * channels);
    const loss = () => {
      backend.embeddingForward(out, table, tokens, count, channels);
      return dot(values(r), values(out));
    };
    const dtable = prefilledGradient(random, vocab * channels);

    // Act
    backend.embeddingBackward(dtable.buffer, r, tokens, count, channels);

    // Assess
    const analytic = added(values(dtable.buffer), dtable.before);
    expectGradient('dtable', { loss, input: values(table), analytic });
    expect(Array.from(analytic.subarray(2 * channels, 3 * channels))).toEqual([0, 0, 0]);
  });

  it('rmsnorm: dx and dweight', () => {
    // Prepare: x (3, 7)
    const random = Random.fromSeed(14);
    const [rows, cols] = [3, 7];
    const x = randomBuffer(random, rows * cols);
    const weight = bufferFrom(
      backend,
      randomValues(random, cols, 0.3).map((noise) => 1 + noise),
    );
    const r = randomBuffer(random, rows * cols);
    const out = backend.allocate('f32', rows * cols);
    const rstd = backend.allocate('f32', rows);
    const loss = () => {
      backend.rmsNormForward(out, rstd, x, weight, rows, cols, 1e-5);
      return dot(values(r), values(out));
    };
    loss();
    const dx = prefilledGradient(random, rows * cols);
    const dweight = prefilledGradient(random, cols);

    // Act
    backend.rmsNormBackward(dx.buffer, dweight.buffer, r, x, weight, rstd, rows, cols);

    // Assess
    expectGradient('dx', { loss, input: values(x), analytic: added(values(dx.buffer), dx.before) });
    expectGradient('dweight', {
      loss,
      input: values(weight),
      analytic: added(values(dweight.buffer), dweight.before),
    });
  });

  it('rope: backward rotates dout back', () => {
    // Prepare: x (N = 3, H = 3, HD = 4) at positions 0, 5, 2; cos/sin tables (P = 6, HD/2)
    const random = Random.fromSeed(15);
    const [count, heads, headDim] = [3, 3, 4];
    const angles = Array.from({ length: 6 * 2 }, (_, i) => Math.floor(i / 2) * 10000 ** (-(i % 2) / 2));
    const cos = bufferFrom(backend, angles.map(Math.cos));
    const sin = bufferFrom(backend, angles.map(Math.sin));
    const positions = bufferFrom(backend, [0, 5, 2], 'i32');
    const x = randomBuffer(random, count * heads * headDim);
    const r = randomBuffer(random, count * heads * headDim);
    const out = backend.allocate('f32', count * heads * headDim);
    const loss = () => {
      backend.copy(out, x);
      backend.ropeForward(out, positions, cos, sin, count, heads, headDim);
      return dot(values(r), values(out));
    };
    const dx = backend.allocate('f32', count * heads * headDim);
    backend.copy(dx, r);

    // Act
    backend.ropeBackward(dx, positions, cos, sin, count, heads, headDim);

    // Assess
    expectGradient('dx', { loss, input: values(x), analytic: values(dx) });
  });

  describe('attention', () => {
    function checkAttention(seed: number, shape: AttentionShape, start: number[], end: number[]): void {
      const random = Random.fromSeed(seed);
      const { batch, queries, keys, heads, kvHeads, headDim } = shape;
      const qSize = batch * queries * heads * headDim;
      const kvSize = batch * keys * kvHeads * headDim;
      const q = randomBuffer(random, qSize);
      const k = randomBuffer(random, kvSize);
      const v = randomBuffer(random, kvSize);
      const r = randomBuffer(random, qSize);
      const window = { start: bufferFrom(backend, start, 'i32'), end: bufferFrom(backend, end, 'i32') };
      const out = backend.allocate('f32', qSize);
      const lse = backend.allocate('f32', batch * heads * queries);
      const loss = () => {
        backend.attentionForward(out, lse, q, k, v, window, shape);
        return dot(values(r), values(out));
      };
      loss();
      const dq = prefilledGradient(random, qSize);
      const dk = prefilledGradient(random, kvSize);
      const dv = prefilledGradient(random, kvSize);

      backend.attentionBackward(dq.buffer, dk.buffer, dv.buffer, r, q, k, v, out, lse, window, shape);

      expectGradient('dq', { loss, input: values(q), analytic: added(values(dq.buffer), dq.before) });
      expectGradient('dk', { loss, input: values(k), analytic: added(values(dk.buffer), dk.before) });
      expectGradient('dv', { loss, input: values(v), analytic: added(values(dv.buffer), dv.before) });
    }

    it('dq, dk, dv with GQA (NH 4, NKV 2) over a packed row and a causal row', () => {
      // Row 0 packs sequences [0, 3) and [3, 5) (positions 0 1 2 0 1); row 1 is one causal sequence.
      const shape = { batch: 2, queries: 5, keys: 5, heads: 4, kvHeads: 2, headDim: 4 };
      checkAttention(16, shape, [0, 0, 0, 3, 3, 0, 0, 0, 0, 0], [0, 1, 2, 3, 4, 0, 1, 2, 3, 4]);
    });

    it('dq, dk, dv for decoding over a larger cache, with one empty window', () => {
      // 3 queries over S = 7 slots: windows [0, 4], [0, 5] and the empty [3, 2]; slot 6 is unseen.
      const shape = { batch: 1, queries: 3, keys: 7, heads: 4, kvHeads: 2, headDim: 2 };
      checkAttention(17, shape, [0, 0, 3], [4, 5, 2]);
    });
  });

  it('swiglu: dgate and dup', () => {
    // Prepare: gate, up (3, 7)
    const random = Random.fromSeed(18);
    const size = 3 * 7;
    const gate = randomBuffer(random, size, 2);
    const up = randomBuffer(random, size);
    const r = randomBuffer(random, size);
    const out = backend.allocate('f32', size);
    const loss = () => {
      backend.swigluForward(out, gate, up);
      return dot(values(r), values(out));
    };
    const dgate = prefilledGradient(random, size);
    const dup = prefilledGradient(random, size);

    // Act
    backend.swigluBackward(dgate.buffer, dup.buffer, r, gate, up);

    // Assess
    expectGradient('dgate', {
      loss,
      input: values(gate),
      analytic: added(values(dgate.buffer), dgate.before),
    });
    expectGradient('dup', { loss, input: values(up), analytic: added(values(dup.buffer), dup.before) });
  });

  it('cross-entropy: dlogits of scale * sum(weight * loss), a zero weight included', () => {
    // Prepare: logits (3, 7); the loss weights play the part of the random projection
    const random = Random.fromSeed(19);
    const [rows, vocab] = [3, 7];
    const scale = 0.25;
    const lossWeights = [1, 0, 0.5];
    const logits = randomBuffer(random, rows * vocab, 2);
    const targets = bufferFrom(backend, [6, 0, 3], 'i32');
    const losses = backend.allocate('f32', rows);
    const loss = () => {
      backend.crossEntropyForward(losses, logits, targets, rows, vocab);
      return scale * dot(lossWeights, values(losses));
    };
    const dlogits = randomBuffer(random, rows * vocab);

    // Act
    backend.crossEntropyBackward(
      dlogits,
      logits,
      targets,
      bufferFrom(backend, lossWeights),
      scale,
      rows,
      vocab,
    );

    // Assess
    expectGradient('dlogits', { loss, input: values(logits), analytic: values(dlogits) });
  });
});

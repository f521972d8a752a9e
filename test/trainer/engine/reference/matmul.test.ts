import { describe, expect, it } from 'vitest';
import { Random } from '../../../../trainer/src/engine/random';
import { ReferenceBackend } from '../../../../trainer/src/engine/reference';
import { expectClose } from '../../../helpers/trainer/assertions';
import { bufferFrom, randomValues } from '../../../helpers/trainer/gradient-check';

/** A (rows, cols) row-major matrix stored as its transpose (cols, rows). */
function transpose(values: ArrayLike<number>, rows: number, cols: number): Float64Array {
  const out = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = values[r * cols + c]!;
  return out;
}

/** (M, K) @ (K, N), both row-major, one entry at a time. */
function naiveProduct(a: ArrayLike<number>, b: ArrayLike<number>, m: number, n: number, k: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let sum = 0;
      for (let p = 0; p < k; p++) sum += a[i * k + p]! * b[p * n + j]!;
      out.push(sum);
    }
  }
  return out;
}

describe('reference matmul', () => {
  it('multiplies a hand-computed 2 x 2 product', () => {
    // Prepare
    const backend = new ReferenceBackend('f64');
    const a = bufferFrom(backend, [1, 2, 3, 4]);
    const b = bufferFrom(backend, [5, 6, 7, 8]);
    const out = backend.allocate('f32', 4);

    // Act
    backend.matmul(out, a, b, { m: 2, n: 2, k: 2 });

    // Assess
    expect(Array.from(backend.elements(out))).toEqual([19, 22, 43, 50]);
  });

  const shapes = [
    { m: 1, n: 1, k: 1 },
    { m: 3, n: 7, k: 1 },
    { m: 7, n: 1, k: 3 },
    { m: 1, n: 3, k: 7 },
    { m: 3, n: 3, k: 7 },
  ];
  const layouts = [
    { transA: false, transB: false },
    { transA: true, transB: false },
    { transA: false, transB: true },
    { transA: true, transB: true },
  ];
  describe.each(layouts)('transA $transA, transB $transB', ({ transA, transB }) => {
    it.each(shapes)('matches the naive product for m $m, n $n, k $k', ({ m, n, k }) => {
      // Prepare
      const backend = new ReferenceBackend('f64');
      const random = Random.fromSeed(m * 100 + n * 10 + k);
      const logicalA = randomValues(random, m * k);
      const logicalB = randomValues(random, k * n);
      const a = bufferFrom(backend, transA ? transpose(logicalA, m, k) : logicalA);
      const b = bufferFrom(backend, transB ? transpose(logicalB, k, n) : logicalB);
      const out = bufferFrom(backend, randomValues(random, m * n));

      // Act
      backend.matmul(out, a, b, { m, n, k }, { transA, transB });

      // Assess
      expectClose(backend.elements(out), naiveProduct(logicalA, logicalB, m, n, k), 1e-12);
    });

    it('adds alpha times the product into out with accumulate', () => {
      // Prepare
      const backend = new ReferenceBackend('f64');
      const random = Random.fromSeed(5);
      const [m, n, k] = [3, 7, 3];
      const logicalA = randomValues(random, m * k);
      const logicalB = randomValues(random, k * n);
      const before = randomValues(random, m * n);
      const a = bufferFrom(backend, transA ? transpose(logicalA, m, k) : logicalA);
      const b = bufferFrom(backend, transB ? transpose(logicalB, k, n) : logicalB);
      const out = bufferFrom(backend, before);

      // Act
      backend.matmul(out, a, b, { m, n, k }, { transA, transB, accumulate: true, alpha: -0.75 });

      // Assess
      const product = naiveProduct(logicalA, logicalB, m, n, k);
      expectClose(
        backend.elements(out),
        product.map((value, i) => before[i]! - 0.75 * value),
        1e-12,
      );
    });
  });

  it('overwrites out with alpha times the product when not accumulating', () => {
    // Prepare
    const backend = new ReferenceBackend('f64');
    const a = bufferFrom(backend, [1, 2, 3]);
    const b = bufferFrom(backend, [4, 5, 6]);
    const out = bufferFrom(backend, [100]);

    // Act
    backend.matmul(out, a, b, { m: 1, n: 1, k: 3 }, { alpha: 0.5 });

    // Assess
    expect(backend.elements(out)[0]).toBe(16);
  });

  it('sums each dot product at double precision and rounds once in f32', () => {
    // Prepare: summed in float32, 1e8 + 1 would round back to 1e8 and the result be 0.
    const backend = new ReferenceBackend('f32');
    const a = bufferFrom(backend, [1e8, 1, -1e8]);
    const b = bufferFrom(backend, [1, 1, 1]);
    const out = backend.allocate('f32', 1);

    // Act
    backend.matmul(out, a, b, { m: 1, n: 1, k: 3 });

    // Assess
    expect(backend.elements(out)[0]).toBe(1);
  });
});

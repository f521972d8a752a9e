import type { MatmulOptions, MatmulShape } from '../backend';
import type { FloatArray } from './arrays';

/**
 * out (M, N) = alpha * op(a) (M, K) @ op(b) (K, N) [+ out], each dot product summed in a JS
 * number (fp64) and rounded once. a is (M, K), or (K, M) with transA; b is (K, N), or (N, K)
 * with transB.
 */
export function matmul(
  out: FloatArray,
  a: FloatArray,
  b: FloatArray,
  shape: MatmulShape,
  options: MatmulOptions = {},
): void {
  const { m, n, k } = shape;
  const alpha = options.alpha ?? 1;
  const [aRow, aCol] = options.transA ? [1, m] : [k, 1];
  const [bRow, bCol] = options.transB ? [1, k] : [n, 1];
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let sum = 0;
      for (let p = 0; p < k; p++) {
        sum += a[i * aRow + p * aCol]! * b[p * bRow + j * bCol]!;
      }
      const o = i * n + j;
      out[o] = options.accumulate ? out[o]! + alpha * sum : alpha * sum;
    }
  }
}

import type { FloatArray, IndexArray } from './arrays';

/**
 * Rotates each (i, i + HD/2) pair of x (N, H, HD) by the angle of its token's position:
 * direction 1 for forward, -1 for the transposed rotation that backward applies.
 * cos, sin: (P, HD/2); positions: (N).
 */
export function rotate(
  x: FloatArray,
  positions: IndexArray,
  cos: FloatArray,
  sin: FloatArray,
  count: number,
  heads: number,
  headDim: number,
  direction: 1 | -1,
): void {
  const half = headDim / 2;
  for (let n = 0; n < count; n++) {
    const table = positions[n]! * half;
    for (let h = 0; h < heads; h++) {
      const base = (n * heads + h) * headDim;
      for (let i = 0; i < half; i++) {
        const c = cos[table + i]!;
        const s = direction * sin[table + i]!;
        const first = x[base + i]!;
        const second = x[base + i + half]!;
        x[base + i] = first * c - second * s;
        x[base + i + half] = second * c + first * s;
      }
    }
  }
}

import { dropoutDraw } from '../backend';
import type { FloatArray } from './arrays';

export function addRowVector(out: FloatArray, vector: FloatArray, rows: number, cols: number): void {
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) out[r * cols + c]! += vector[c]!;
  }
}

export function sumRows(sums: FloatArray, x: FloatArray, rows: number, cols: number): void {
  for (let c = 0; c < cols; c++) {
    let sum = 0;
    for (let r = 0; r < rows; r++) sum += x[r * cols + c]!;
    sums[c]! += sum;
  }
}

export function add(out: FloatArray, a: FloatArray, b: FloatArray): void {
  for (let i = 0; i < out.length; i++) out[i] = a[i]! + b[i]!;
}

export function multiply(out: FloatArray, a: FloatArray, b: FloatArray, accumulate: boolean): void {
  for (let i = 0; i < out.length; i++) out[i] = (accumulate ? out[i]! : 0) + a[i]! * b[i]!;
}

export function axpy(y: FloatArray, x: FloatArray, alpha: number): void {
  for (let i = 0; i < y.length; i++) y[i]! += alpha * x[i]!;
}

export function scale(x: FloatArray, factor: number): void {
  for (let i = 0; i < x.length; i++) x[i]! *= factor;
}

export function sumOfSquares(out: FloatArray, x: FloatArray): void {
  let sum = 0;
  for (let i = 0; i < x.length; i++) sum += x[i]! * x[i]!;
  out[0] = sum;
}

// out (N, I) = silu(gate) * up, silu(g) = g * sigmoid(g)
export function swigluForward(out: FloatArray, gate: FloatArray, up: FloatArray): void {
  for (let i = 0; i < out.length; i++) {
    const g = gate[i]!;
    out[i] = (g / (1 + Math.exp(-g))) * up[i]!;
  }
}

// d silu(g) / dg = sigmoid(g) * (1 + g * (1 - sigmoid(g)))
export function swigluBackward(
  dgate: FloatArray,
  dup: FloatArray,
  dout: FloatArray,
  gate: FloatArray,
  up: FloatArray,
): void {
  for (let i = 0; i < dout.length; i++) {
    const g = gate[i]!;
    const sigmoid = 1 / (1 + Math.exp(-g));
    const silu = g * sigmoid;
    dgate[i]! += dout[i]! * up[i]! * sigmoid * (1 + g * (1 - sigmoid));
    dup[i]! += dout[i]! * silu;
  }
}

/** The factor clipping by global norm scales gradients by: below 1 only when their norm passes `maxNorm`. */
export function clipFactor(sumOfSquares: number, maxNorm: number): number {
  return maxNorm / (Math.sqrt(sumOfSquares) + 1e-6);
}

export function clipToNorm(x: FloatArray, sumOfSquares: number, maxNorm: number): void {
  const factor = clipFactor(sumOfSquares, maxNorm);
  if (factor < 1) scale(x, factor);
}

export function dropoutMask(mask: FloatArray, probability: number, seed: number): void {
  const threshold = probability * 2 ** 32;
  const keep = 1 / (1 - probability);
  for (let i = 0; i < mask.length; i++) mask[i] = dropoutDraw(seed, i) < threshold ? 0 : keep;
}

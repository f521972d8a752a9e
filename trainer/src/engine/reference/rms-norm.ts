import type { FloatArray } from './arrays';

// out (N, C) = x * rstd * weight (C), rstd (N) = 1 / sqrt(mean(x^2) + eps)
export function rmsNormForward(
  out: FloatArray,
  rstd: FloatArray,
  x: FloatArray,
  weight: FloatArray,
  rows: number,
  cols: number,
  epsilon: number,
): void {
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    let squares = 0;
    for (let c = 0; c < cols; c++) squares += x[base + c]! * x[base + c]!;
    const s = 1 / Math.sqrt(squares / cols + epsilon);
    rstd[r] = s;
    for (let c = 0; c < cols; c++) out[base + c] = x[base + c]! * s * weight[c]!;
  }
}

// With xhat = x * s and g = dout * weight:
// dx = s * (g - xhat * mean(g * xhat)), dweight = sum over rows of dout * xhat
export function rmsNormBackward(
  dx: FloatArray,
  dweight: FloatArray | null,
  dout: FloatArray,
  x: FloatArray,
  weight: FloatArray,
  rstd: FloatArray,
  rows: number,
  cols: number,
): void {
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    const s = rstd[r]!;
    let dot = 0;
    for (let c = 0; c < cols; c++) dot += dout[base + c]! * weight[c]! * x[base + c]! * s;
    const mean = dot / cols;
    for (let c = 0; c < cols; c++) {
      const xhat = x[base + c]! * s;
      dx[base + c]! += s * (dout[base + c]! * weight[c]! - xhat * mean);
      if (dweight) dweight[c]! += dout[base + c]! * xhat;
    }
  }
}

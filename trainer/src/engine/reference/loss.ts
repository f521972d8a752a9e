import type { FloatArray, IndexArray } from './arrays';

function rowLogSumExp(logits: FloatArray, base: number, vocab: number): number {
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < vocab; i++) if (logits[base + i]! > max) max = logits[base + i]!;
  let sum = 0;
  for (let i = 0; i < vocab; i++) sum += Math.exp(logits[base + i]! - max);
  return max + Math.log(sum);
}

// losses (N) = logsumexp(logits[n]) - logits[n, target[n]]
export function crossEntropyForward(
  losses: FloatArray,
  logits: FloatArray,
  targets: IndexArray,
  rows: number,
  vocab: number,
): void {
  for (let n = 0; n < rows; n++) {
    const base = n * vocab;
    losses[n] = rowLogSumExp(logits, base, vocab) - logits[base + targets[n]!]!;
  }
}

// dlogits (N, V) = (softmax - onehot(target)) * weight[n] * scale; dlogits may alias logits
export function crossEntropyBackward(
  dlogits: FloatArray,
  logits: FloatArray,
  targets: IndexArray,
  weights: FloatArray,
  scale: number,
  rows: number,
  vocab: number,
): void {
  for (let n = 0; n < rows; n++) {
    const base = n * vocab;
    const factor = weights[n]! * scale;
    const lse = rowLogSumExp(logits, base, vocab);
    const target = targets[n]!;
    for (let i = 0; i < vocab; i++) {
      const probability = Math.exp(logits[base + i]! - lse);
      dlogits[base + i] = (probability - (i === target ? 1 : 0)) * factor;
    }
  }
}

export function argmax(out: IndexArray, x: FloatArray, rows: number, cols: number): void {
  for (let r = 0; r < rows; r++) {
    let best = 0;
    for (let c = 1; c < cols; c++) if (x[r * cols + c]! > x[r * cols + best]!) best = c;
    out[r] = best;
  }
}

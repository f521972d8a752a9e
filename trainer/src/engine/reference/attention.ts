import type { AttentionShape } from '../backend';
import type { FloatArray, IndexArray } from './arrays';

interface Window {
  readonly start: IndexArray;
  readonly end: IndexArray;
}

/** The keys query row r sees, clamped to the slots that exist: [first, last], empty when first > last. */
function keyRange(window: Window, row: number, keys: number): [number, number] {
  return [Math.max(0, window.start[row]!), Math.min(keys - 1, window.end[row]!)];
}

// out (B, T, NH, HD), logSumExp (B, NH, T), q (B, T, NH, HD), k and v (B, S, NKV, HD)
export function attentionForward(
  out: FloatArray,
  logSumExp: FloatArray,
  q: FloatArray,
  k: FloatArray,
  v: FloatArray,
  window: Window,
  shape: AttentionShape,
): void {
  const { batch, queries: T, keys: S, heads: NH, kvHeads: NKV, headDim: HD } = shape;
  const group = NH / NKV;
  const scale = 1 / Math.sqrt(HD);
  const scores = new Float64Array(S);
  for (let b = 0; b < batch; b++) {
    for (let t = 0; t < T; t++) {
      const row = b * T + t;
      const [first, last] = keyRange(window, row, S);
      for (let h = 0; h < NH; h++) {
        const qBase = (row * NH + h) * HD;
        const kvHead = Math.floor(h / group);
        const outBase = qBase;
        let max = Number.NEGATIVE_INFINITY;
        for (let j = first; j <= last; j++) {
          const kBase = ((b * S + j) * NKV + kvHead) * HD;
          let dot = 0;
          for (let d = 0; d < HD; d++) dot += q[qBase + d]! * k[kBase + d]!;
          scores[j] = dot * scale;
          if (scores[j]! > max) max = scores[j]!;
        }
        let sum = 0;
        for (let j = first; j <= last; j++) {
          scores[j] = Math.exp(scores[j]! - max);
          sum += scores[j]!;
        }
        logSumExp[(b * NH + h) * T + t] = first <= last ? max + Math.log(sum) : 0;
        // scores now hold exp(score - max); the weights are those over their sum.
        for (let d = 0; d < HD; d++) {
          let value = 0;
          for (let j = first; j <= last; j++) {
            value += scores[j]! * v[((b * S + j) * NKV + kvHead) * HD + d]!;
          }
          out[outBase + d] = first <= last ? value / sum : 0;
        }
      }
    }
  }
}

// With p_j = softmax weights recomputed from logSumExp and D = dout . out:
// dv_j += p_j dout, ds_j = p_j (dout . v_j - D), dq += scale ds_j k_j, dk_j += scale ds_j q
export function attentionBackward(
  dq: FloatArray,
  dk: FloatArray,
  dv: FloatArray,
  dout: FloatArray,
  q: FloatArray,
  k: FloatArray,
  v: FloatArray,
  out: FloatArray,
  logSumExp: FloatArray,
  window: Window,
  shape: AttentionShape,
): void {
  const { batch, queries: T, keys: S, heads: NH, kvHeads: NKV, headDim: HD } = shape;
  const group = NH / NKV;
  const scale = 1 / Math.sqrt(HD);
  for (let b = 0; b < batch; b++) {
    for (let t = 0; t < T; t++) {
      const row = b * T + t;
      const [first, last] = keyRange(window, row, S);
      for (let h = 0; h < NH; h++) {
        const qBase = (row * NH + h) * HD;
        const kvHead = Math.floor(h / group);
        const lse = logSumExp[(b * NH + h) * T + t]!;
        let outDot = 0;
        for (let d = 0; d < HD; d++) outDot += dout[qBase + d]! * out[qBase + d]!;
        for (let j = first; j <= last; j++) {
          const kBase = ((b * S + j) * NKV + kvHead) * HD;
          let score = 0;
          let doutDotV = 0;
          for (let d = 0; d < HD; d++) {
            score += q[qBase + d]! * k[kBase + d]!;
            doutDotV += dout[qBase + d]! * v[kBase + d]!;
          }
          const p = Math.exp(score * scale - lse);
          const ds = p * (doutDotV - outDot) * scale;
          for (let d = 0; d < HD; d++) {
            dv[kBase + d]! += p * dout[qBase + d]!;
            dq[qBase + d]! += ds * k[kBase + d]!;
            dk[kBase + d]! += ds * q[qBase + d]!;
          }
        }
      }
    }
  }
}

import type { FloatArray, IndexArray } from './arrays';

// out (N, C) = table (V, C)[tokens (N)]
export function embeddingForward(
  out: FloatArray,
  table: FloatArray,
  tokens: IndexArray,
  count: number,
  channels: number,
): void {
  for (let n = 0; n < count; n++) {
    const row = tokens[n]! * channels;
    for (let c = 0; c < channels; c++) out[n * channels + c] = table[row + c]!;
  }
}

// dtable (V, C) += dout (N, C) at rows tokens (N)
export function embeddingBackward(
  dtable: FloatArray,
  dout: FloatArray,
  tokens: IndexArray,
  count: number,
  channels: number,
): void {
  for (let n = 0; n < count; n++) {
    const row = tokens[n]! * channels;
    for (let c = 0; c < channels; c++) dtable[row + c]! += dout[n * channels + c]!;
  }
}

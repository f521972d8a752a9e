import type { TokenizedExample } from '../../trainer/src/train/examples';

/**
 * Documents as one token stream, each followed by `separator`, cut into consecutive sequences of
 * `length` tokens (the last may be shorter; one of a single token is dropped, having no target).
 * Every target trains: loss weights are all 1.
 */
export function packSequences(
  documents: readonly (readonly number[])[],
  separator: number,
  length: number,
): TokenizedExample[] {
  const stream: number[] = [];
  for (const ids of documents) {
    for (const id of ids) stream.push(id);
    stream.push(separator);
  }
  const sequences: TokenizedExample[] = [];
  for (let start = 0; start + 1 < stream.length; start += length) {
    const tokens = Int32Array.from(stream.slice(start, start + length));
    sequences.push({ tokens, lossWeights: new Float32Array(tokens.length).fill(1) });
  }
  return sequences;
}

/** Token counts over documents, each followed by `separator`, as packSequences streams them. */
export function tokenCounts(
  documents: readonly (readonly number[])[],
  separator: number,
  vocabSize: number,
): Float64Array {
  const counts = new Float64Array(vocabSize);
  for (const ids of documents) {
    for (const id of ids) counts[id] = (counts[id] as number) + 1;
    counts[separator] = (counts[separator] as number) + 1;
  }
  return counts;
}

/**
 * Mean negative log-likelihood (nats per token) of a unigram model with add-one smoothing,
 * p(t) = (count(t) + 1) / (total + V), over the targets of the sequences (every token but each
 * sequence's first, the tokens a causal model is scored on).
 */
export function unigramLoss(counts: Float64Array, sequences: readonly TokenizedExample[]): number {
  let total = 0;
  for (const count of counts) total += count;
  const denominator = total + counts.length;
  let loss = 0;
  let targets = 0;
  for (const { tokens } of sequences) {
    for (let t = 1; t < tokens.length; t++) {
      loss -= Math.log(((counts[tokens[t] as number] as number) + 1) / denominator);
      targets += 1;
    }
  }
  return loss / targets;
}

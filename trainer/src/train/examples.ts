/** One tokenized example: lossWeights[t] is the weight of predicting tokens[t] from the tokens before it. */
export interface TokenizedExample {
  readonly tokens: Int32Array;
  readonly lossWeights: Float32Array;
  /** Set on packed rows only: each token's position within its own example, 0 where one starts. */
  readonly positions?: Int32Array;
}

/** The weight a batch of examples carries in the loss: every target after a sequence's first token. */
export function trainedWeight(examples: readonly TokenizedExample[]): number {
  let total = 0;
  for (const example of examples) {
    for (let t = 1; t < example.tokens.length; t++) total += example.lossWeights[t]!;
  }
  return total;
}

/** Splits items into consecutive groups of `size` (the last may be shorter). */
export function chunks<T>(items: readonly T[], size: number): T[][] {
  const groups: T[][] = [];
  for (let i = 0; i < items.length; i += size) groups.push(items.slice(i, i + size));
  return groups;
}

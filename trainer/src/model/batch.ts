import { EngineError } from '../engine/errors';

/**
 * B rows of T tokens, flattened row-major (N = B * T). `positions` number each token within its
 * sequence: they drive RoPE and the attention mask (a token sees the earlier tokens of its own
 * sequence only), so rows may hold several packed sequences, and padding gets position 0.
 */
export interface TokenBatch {
  readonly batch: number;
  readonly length: number;
  /** (N) */
  readonly tokens: Int32Array;
  /** (N) */
  readonly positions: Int32Array;
  /** (N) the token each position predicts; required for loss and backward */
  readonly targets?: Int32Array;
  /** (N) each target's weight in the loss: 0 for prompt, padding and untrained messages */
  readonly weights?: Float32Array;
}

export function checkBatch(batch: TokenBatch, vocabSize: number): void {
  const size = batch.batch * batch.length;
  if (!Number.isInteger(batch.batch) || !Number.isInteger(batch.length) || size < 1) {
    throw new EngineError(
      `a batch needs at least one row of one token, got ${batch.batch} x ${batch.length}`,
    );
  }
  for (const [name, array] of Object.entries({
    tokens: batch.tokens,
    positions: batch.positions,
    targets: batch.targets,
    weights: batch.weights,
  })) {
    if (array && array.length !== size)
      throw new EngineError(`batch ${name} has ${array.length} entries, expected ${size}`);
  }
  for (let i = 0; i < size; i++) {
    const t = i % batch.length;
    const token = batch.tokens[i]!;
    if (token < 0 || token >= vocabSize)
      throw new EngineError(`token id ${token} at ${i} is outside the vocabulary of ${vocabSize}`);
    const target = batch.targets?.[i];
    if (target !== undefined && (target < 0 || target >= vocabSize)) {
      throw new EngineError(`target id ${target} at ${i} is outside the vocabulary of ${vocabSize}`);
    }
    const position = batch.positions[i]!;
    if (position < 0 || position > t)
      throw new EngineError(`position ${position} at row offset ${t} reaches before the row's start`);
  }
}

/**
 * Attention windows (N): token t of a row sees keys t - positions[t] through t of the same row, or,
 * with a sliding window of W, only the last W of them (a key at distance W or more is masked, as
 * in Mistral).
 */
export function attentionWindows(
  batch: TokenBatch,
  slidingWindow: number | null = null,
): { start: Int32Array; end: Int32Array } {
  const size = batch.batch * batch.length;
  const reach = slidingWindow ?? Number.POSITIVE_INFINITY;
  const start = new Int32Array(size);
  const end = new Int32Array(size);
  for (let i = 0; i < size; i++) {
    const t = i % batch.length;
    start[i] = t - Math.min(batch.positions[i]!, reach - 1);
    end[i] = t;
  }
  return { start, end };
}

/**
 * Rows of sequences, right-padded to the longest, with next-token targets and weights. A row may
 * hold several packed sequences, told apart by `positions` restarting at 0.
 */
export function padSequences(
  sequences: readonly {
    readonly tokens: ArrayLike<number>;
    readonly lossWeights?: ArrayLike<number>;
    /** Packed sequences: each token's position in its own sequence (0 starts one); default 0, 1, 2, ... */
    readonly positions?: ArrayLike<number>;
  }[],
  padToken: number,
): TokenBatch {
  const length = Math.max(1, ...sequences.map((sequence) => sequence.tokens.length));
  const size = sequences.length * length;
  const tokens = new Int32Array(size).fill(padToken);
  const positions = new Int32Array(size);
  const targets = new Int32Array(size).fill(padToken);
  const weights = new Float32Array(size);
  sequences.forEach((sequence, row) => {
    const base = row * length;
    const count = sequence.tokens.length;
    for (let t = 0; t < count; t++) {
      tokens[base + t] = sequence.tokens[t]!;
      positions[base + t] = sequence.positions ? sequence.positions[t]! : t;
      if (t + 1 < count) {
        targets[base + t] = sequence.tokens[t + 1]!;
        // The first token of a packed sequence is never predicted from the one before it.
        const startsSequence = sequence.positions !== undefined && sequence.positions[t + 1] === 0;
        weights[base + t] = startsSequence ? 0 : sequence.lossWeights ? sequence.lossWeights[t + 1]! : 1;
      }
    }
  });
  return { batch: sequences.length, length, tokens, positions, targets, weights };
}

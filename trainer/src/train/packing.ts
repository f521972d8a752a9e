import { TrainingConfigError } from '../engine/errors';
import type { TokenizedExample } from './examples';

/**
 * Packs examples, in their order, into rows of at most `maxTokens` tokens: each example goes into
 * the current row if it fits, else starts the next one. Inside a row, positions restart at 0 for
 * every example, so attention and RoPE see each example alone, and the first token of each example
 * carries no loss weight (nothing before it in its own sequence predicts it). Losses and gradients
 * equal those of the unpacked examples; only the padding, and so the work, shrinks.
 */
export function packExamples(examples: readonly TokenizedExample[], maxTokens: number): TokenizedExample[] {
  if (!Number.isInteger(maxTokens) || maxTokens < 1) {
    throw new TrainingConfigError('maxTokens', `packing needs a positive whole row length, got ${maxTokens}`);
  }
  const rows: TokenizedExample[][] = [];
  let current: TokenizedExample[] = [];
  let length = 0;
  for (const example of examples) {
    if (example.tokens.length > maxTokens) {
      throw new TrainingConfigError(
        'maxTokens',
        `an example of ${example.tokens.length} tokens does not fit a packed row of ${maxTokens}`,
      );
    }
    if (length + example.tokens.length > maxTokens && current.length > 0) {
      rows.push(current);
      current = [];
      length = 0;
    }
    current.push(example);
    length += example.tokens.length;
  }
  if (current.length > 0) rows.push(current);
  return rows.map(concatenate);
}

function concatenate(parts: readonly TokenizedExample[]): TokenizedExample {
  const total = parts.reduce((sum, part) => sum + part.tokens.length, 0);
  const tokens = new Int32Array(total);
  const lossWeights = new Float32Array(total);
  const positions = new Int32Array(total);
  let offset = 0;
  for (const part of parts) {
    tokens.set(part.tokens, offset);
    lossWeights.set(part.lossWeights, offset);
    lossWeights[offset] = 0;
    for (let t = 0; t < part.tokens.length; t++) positions[offset + t] = t;
    offset += part.tokens.length;
  }
  return { tokens, lossWeights, positions };
}

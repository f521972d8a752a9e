import { basename } from 'node:path';
import { DataError, encodeExample, readJsonlExamples, type TrainingExample } from '../data';
import { TrainingConfigError } from '../engine/errors';
import { Random } from '../engine/random';
import { type GenerationPrompt, generationPrompt } from '../eval';
import type { Tokenizer } from '../tokenizer';
import { TrainingDataError } from './errors';
import { type TokenizedExample, trainedWeight } from './examples';

export interface DatasetFiles {
  readonly trainFile: string;
  readonly validationFile?: string;
  /** Without a validation file, this share of the training examples (drawn with the seed) is held out; 0 for none. */
  readonly validationFraction: number;
  /** Validation examples turned into generation prompts, from the first. */
  readonly generationExamples: number;
}

export interface DatasetContext {
  readonly tokenizer: Tokenizer;
  readonly maxSeqLen: number;
  readonly seed: number;
  readonly onNotice?: (message: string) => void;
}

export interface Dataset {
  readonly train: TokenizedExample[];
  readonly validation: TokenizedExample[] | null;
  /** The validation examples' prompts and references, for exact-match evaluation. */
  readonly prompts: GenerationPrompt[];
}

interface SourcedExample extends TokenizedExample {
  readonly source: TrainingExample;
}

/**
 * The training and validation examples as token ids with loss weights, cut to `maxSeqLen` (a
 * notice counts the examples cut). A file that cannot be read, holds a bad line or no example, or
 * keeps no trained token within `maxSeqLen` fails with a TrainingDataError naming it.
 */
export async function loadDataset(files: DatasetFiles, context: DatasetContext): Promise<Dataset> {
  const { maxSeqLen, seed } = context;
  const train = await tokenize(files.trainFile, context);
  if (trainedWeight(train) === 0) {
    throw new TrainingDataError(
      files.trainFile,
      `${basename(files.trainFile)}: no example has a trained token within its first ${maxSeqLen} tokens (assistant replies with weight 1, or completions), so there is nothing to learn`,
    );
  }
  let validation = files.validationFile ? await tokenize(files.validationFile, context) : null;
  const fraction = files.validationFraction;
  if (!(fraction >= 0 && fraction < 1)) {
    throw new TrainingConfigError(
      'validationFraction',
      `validationFraction must be in [0, 1), got ${fraction}`,
    );
  }
  if (!validation && fraction > 0 && train.length >= 2) {
    const count = Math.min(train.length - 1, Math.max(1, Math.round(train.length * fraction)));
    const order = Random.fromSeed((seed ^ 0x7a11d) >>> 0).shuffle(train.map((_, index) => index));
    const held = new Set(order.slice(0, count));
    validation = train.filter((_, index) => held.has(index));
    train.splice(0, train.length, ...train.filter((_, index) => !held.has(index)));
    context.onNotice?.(
      `No validation file: ${count} of the ${train.length + count} training examples (${(fraction * 100).toFixed(0)}%), drawn with seed ${seed}, are held out for validation`,
    );
  }
  const prompts: GenerationPrompt[] = [];
  for (const example of validation ?? []) {
    if (prompts.length >= files.generationExamples) break;
    const prompt = generationPrompt(context.tokenizer, example.source);
    if (prompt) prompts.push(prompt);
  }
  return { train: train.map(stripSource), validation: validation?.map(stripSource) ?? null, prompts };
}

function stripSource({ tokens, lossWeights }: SourcedExample): TokenizedExample {
  return { tokens, lossWeights };
}

async function tokenize(file: string, context: DatasetContext): Promise<SourcedExample[]> {
  const { tokenizer, maxSeqLen } = context;
  const examples: SourcedExample[] = [];
  let truncated = 0;
  try {
    for await (const { example } of readJsonlExamples(file)) {
      const encoded = encodeExample(tokenizer, example, { maxSeqLen });
      if (encoded.truncated) truncated += 1;
      examples.push({ tokens: encoded.tokens, lossWeights: encoded.lossWeights, source: example });
    }
  } catch (error) {
    if (!(error instanceof DataError)) throw error;
    throw new TrainingDataError(file, error.message, { cause: error });
  }
  if (examples.length === 0) throw new TrainingDataError(file, `${basename(file)} holds no examples`);
  if (truncated > 0) {
    context.onNotice?.(
      `${basename(file)}: ${truncated} of ${examples.length} examples were cut to ${maxSeqLen} tokens`,
    );
  }
  return examples;
}

import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { JobSpec } from '../../../lib/core/jobs';
import type { TrainingMethod } from '../model/method';
import type { TrainingSettings } from '../train';
import { learningRateFor } from './hyperparameters';
import type { JobRecords } from './records';

/** Tokens per forward pass at most: OpenAI's batch sizes go to 256, memory does not. */
const MAX_TOKENS_PER_PASS = 8_192;

/** The engine's training method for the job's options. */
export function trainingMethod(spec: JobSpec): TrainingMethod {
  const { options } = spec;
  if (options.training_method === 'full') return { kind: 'full' };
  if (options.training_method === 'partial') {
    return { kind: 'partial', layers: options.partial?.layers, modules: options.partial?.modules };
  }
  return {
    kind: 'lora',
    rank: options.lora.rank,
    alpha: options.lora.alpha,
    dropout: options.lora.dropout,
    targetModules: options.lora.target_modules,
  };
}

/** The engine's settings: OpenAI's batch size is split into passes of at most MAX_TOKENS_PER_PASS tokens. */
export function trainingSettings(
  spec: JobSpec,
  hyperparameters: { n_epochs: number; batch_size: number; learning_rate_multiplier: number },
  method: TrainingMethod,
): Partial<Omit<TrainingSettings, 'padToken'>> {
  const perPass = Math.max(1, Math.floor(MAX_TOKENS_PER_PASS / spec.options.max_seq_length));
  let passBatch = Math.min(perPass, hyperparameters.batch_size);
  while (hyperparameters.batch_size % passBatch !== 0) passBatch -= 1;
  return {
    epochs: hyperparameters.n_epochs,
    batchSize: passBatch,
    gradientAccumulation: hyperparameters.batch_size / passBatch,
    learningRate: learningRateFor(method.kind, hyperparameters.learning_rate_multiplier),
    warmupRatio: spec.options.warmup_ratio,
    seed: spec.seed,
    adamw: { beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: spec.options.weight_decay },
  };
}

/** The job's max_seq_length, cut to what the base model supports (with a warning). */
export async function sequenceLimit(spec: JobSpec, modelDir: string, records: JobRecords): Promise<number> {
  const requested = spec.options.max_seq_length;
  let positions: unknown;
  try {
    positions = (JSON.parse(await readFile(join(modelDir, 'config.json'), 'utf8')) as Record<string, unknown>)
      .max_position_embeddings;
  } catch {
    return requested;
  }
  if (typeof positions !== 'number' || !Number.isInteger(positions) || positions >= requested)
    return requested;
  await records.event(
    'warn',
    `max_seq_length ${requested} is longer than the base model's ${positions} positions; examples are cut to ${positions} tokens`,
  );
  return positions;
}

/** Non-blank lines: the examples OpenAI's "auto" rules count. */
export async function countExamples(file: string): Promise<number> {
  let count = 0;
  const lines = createInterface({
    input: createReadStream(file, 'utf8'),
    crlfDelay: Number.POSITIVE_INFINITY,
  });
  for await (const line of lines) if (line.trim() !== '') count += 1;
  return count;
}

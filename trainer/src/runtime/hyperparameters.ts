import type { Hyperparameters, TRAINING_METHODS } from '../../../lib/core/schemas';
import { TrainerInputError } from './errors';

type TrainingMethod = (typeof TRAINING_METHODS)[number];

/**
 * OpenAI's `"auto"` hyperparameters, resolved from the number of training examples as OpenAI
 * documents them, so a job here gets the values the same request would get there.
 *
 * - `n_epochs`: OpenAI's cookbook notebook "Data preparation and analysis for chat model
 *   fine-tuning" (openai/openai-cookbook, examples/Chat_finetuning_data_prep.ipynb) states the
 *   default: 3 epochs, unless examples x 3 falls below 100 (then floor(100 / examples), at most 25)
 *   or above 25,000 (then floor(25,000 / examples), at least 1). The fine-tuning guide
 *   ("Iterating on hyperparameters") says the defaults are picked from the dataset size.
 * - `batch_size`: the API reference of OpenAI's fine-tunes endpoint: "dynamically configured to be
 *   ~0.2% of the number of examples in the training set, capped at 256". The current reference
 *   gives no figure. "~0.2%" is read as rounded up (ceil(examples / 500)), so a batch is never
 *   empty, and never more than 256.
 * - `learning_rate_multiplier`: the same reference: "0.05, 0.1, or 0.2 depending on final
 *   batch_size (larger learning rates tend to perform better with larger batch sizes)". Where the
 *   steps fall is not published; here the multiplier doubles where the batch size quadruples (the
 *   square-root scaling rule for Adam), centred on batches of 2, 8 and 32: below 4 it is 0.05, from
 *   4 to 15 it is 0.1, from 16 up it is 0.2. An explicit `batch_size` is the final batch size too.
 *
 * Values the request gives are kept as given; each value resolved here comes with a sentence
 * (`rules`) saying how, for the job's event.
 */
export interface ResolvedHyperparameters {
  readonly n_epochs: number;
  readonly batch_size: number;
  readonly learning_rate_multiplier: number;
  readonly rules: readonly string[];
}

export const EPOCH_RULE = {
  targetEpochs: 3,
  minTargetExamples: 100,
  maxTargetExamples: 25_000,
  minDefaultEpochs: 1,
  maxDefaultEpochs: 25,
} as const;

export const BATCH_SIZE_RULE = { examplesPerBatchItem: 500, maxBatchSize: 256 } as const;

/** Ascending: the first step whose `belowBatchSize` exceeds the batch size gives the multiplier. */
export const MULTIPLIER_STEPS = [
  { belowBatchSize: 4, multiplier: 0.05 },
  { belowBatchSize: 16, multiplier: 0.1 },
  { belowBatchSize: Number.POSITIVE_INFINITY, multiplier: 0.2 },
] as const;

export function resolveHyperparameters(
  requested: Hyperparameters,
  trainExamples: number,
): ResolvedHyperparameters {
  if (!Number.isSafeInteger(trainExamples) || trainExamples < 0) {
    throw new RangeError(`trainExamples must be a whole number of examples, not ${trainExamples}`);
  }
  if (trainExamples === 0) {
    throw new TrainerInputError('The training set has no examples, so no hyperparameter can be chosen', {
      code: 'invalid_training_file',
      param: 'training_file',
    });
  }
  const rules: string[] = [];

  let nEpochs: number;
  if (requested.n_epochs === 'auto') {
    nEpochs = autoEpochs(trainExamples);
    rules.push(epochRule(trainExamples, nEpochs));
  } else {
    nEpochs = requested.n_epochs;
  }

  let batchSize: number;
  if (requested.batch_size === 'auto') {
    batchSize = autoBatchSize(trainExamples);
    rules.push(
      `batch_size ${batchSize}: about 0.2% of the ${count(trainExamples)} training examples, rounded up, between 1 and ${BATCH_SIZE_RULE.maxBatchSize}`,
    );
  } else {
    batchSize = requested.batch_size;
  }

  let multiplier: number;
  if (requested.learning_rate_multiplier === 'auto') {
    multiplier = autoMultiplier(batchSize);
    rules.push(multiplierRule(batchSize, multiplier));
  } else {
    multiplier = requested.learning_rate_multiplier;
  }

  return { n_epochs: nEpochs, batch_size: batchSize, learning_rate_multiplier: multiplier, rules };
}

/**
 * The learning rate a method trains at: its base rate times the job's multiplier.
 *
 * OpenAI defines the multiplier against "the original learning rate used for pretraining". The
 * bases stand in for that rate, chosen so the auto multipliers (0.05 to 0.2, 0.1 for batches of 4
 * to 15) land on the standard recipes:
 * - `full`: 2e-4, about the peak pre-training rate of Llama-family models of a few billion
 *   parameters (Llama 2 used 3e-4); x 0.1 gives 2e-5, the usual full fine-tuning rate (Alpaca,
 *   Vicuna), and the auto range is 1e-5 to 4e-5.
 * - `partial`: the same as `full`, since it updates some of the model's own weights in place and is
 *   as easy to destabilise per weight.
 * - `lora`: 2e-3; x 0.1 gives 2e-4, the rate of the LoRA and QLoRA recipes, and the auto range is
 *   1e-4 to 4e-4. Low-rank adapters start at zero and need about ten times the full rate.
 */
export const BASE_LEARNING_RATES: Readonly<Record<TrainingMethod, number>> = {
  lora: 2e-3,
  full: 2e-4,
  partial: 2e-4,
};

export function learningRateFor(method: TrainingMethod, multiplier: number): number {
  const base = BASE_LEARNING_RATES[method];
  if (base === undefined) throw new RangeError(`No base learning rate for training method '${method}'`);
  if (!Number.isFinite(multiplier) || multiplier <= 0) {
    throw new RangeError(`learning_rate_multiplier must be a positive number, not ${multiplier}`);
  }
  return base * multiplier;
}

function autoEpochs(examples: number): number {
  const rule = EPOCH_RULE;
  const seen = examples * rule.targetEpochs;
  if (seen < rule.minTargetExamples) {
    return Math.min(rule.maxDefaultEpochs, Math.floor(rule.minTargetExamples / examples));
  }
  if (seen > rule.maxTargetExamples) {
    return Math.max(rule.minDefaultEpochs, Math.floor(rule.maxTargetExamples / examples));
  }
  return rule.targetEpochs;
}

function epochRule(examples: number, epochs: number): string {
  const rule = EPOCH_RULE;
  const seen = examples * rule.targetEpochs;
  const prefix = `n_epochs ${epochs}: ${count(examples)} training examples x ${rule.targetEpochs} epochs is ${count(seen)} examples seen`;
  if (seen < rule.minTargetExamples) {
    return `${prefix}, under ${count(rule.minTargetExamples)}, so epochs rise to ${count(rule.minTargetExamples)} / ${count(examples)} rounded down, at most ${rule.maxDefaultEpochs}`;
  }
  if (seen > rule.maxTargetExamples) {
    return `${prefix}, over ${count(rule.maxTargetExamples)}, so epochs fall to ${count(rule.maxTargetExamples)} / ${count(examples)} rounded down, at least ${rule.minDefaultEpochs}`;
  }
  return `${prefix}, between ${count(rule.minTargetExamples)} and ${count(rule.maxTargetExamples)}, so the default of ${rule.targetEpochs} applies`;
}

function autoBatchSize(examples: number): number {
  return Math.min(BATCH_SIZE_RULE.maxBatchSize, Math.ceil(examples / BATCH_SIZE_RULE.examplesPerBatchItem));
}

function autoMultiplier(batchSize: number): number {
  for (const step of MULTIPLIER_STEPS) {
    if (batchSize < step.belowBatchSize) return step.multiplier;
  }
  throw new RangeError(`No learning rate multiplier step covers a batch size of ${batchSize}`);
}

function multiplierRule(batchSize: number, multiplier: number): string {
  const [small, medium] = MULTIPLIER_STEPS;
  const band =
    batchSize < small.belowBatchSize
      ? `under ${small.belowBatchSize}`
      : batchSize < medium.belowBatchSize
        ? `from ${small.belowBatchSize} to ${medium.belowBatchSize - 1}`
        : `${medium.belowBatchSize} or more`;
  return `learning_rate_multiplier ${multiplier}: the batch size of ${batchSize} is ${band}; larger batches take larger multipliers (0.05, 0.1, 0.2)`;
}

function count(value: number): string {
  return value.toLocaleString('en-US');
}

import { TrainingConfigError } from '../engine/errors';
import { Random } from '../engine/random';
import {
  checkSchedule,
  type DecayShape,
  type LearningRateSchedule,
  learningRateAt,
} from '../engine/schedule';
import { padSequences } from '../model/batch';
import type { LlamaModel, LossTotals } from '../model/llama';
import { chunks, type TokenizedExample, trainedWeight } from './examples';
import { AdamW, type AdamWSettings, clipByGlobalNorm, DEFAULT_ADAMW } from './optimizer';

export interface TrainingSettings {
  readonly epochs: number;
  /** Examples per forward/backward pass. */
  readonly batchSize: number;
  /** Passes whose gradients add up to one optimizer step. */
  readonly gradientAccumulation: number;
  readonly learningRate: number;
  /** Share of all steps spent warming up, used when warmupSteps is not given. */
  readonly warmupRatio: number;
  readonly warmupSteps?: number;
  readonly decay: DecayShape;
  /** Clip the gradients' global norm to this; Infinity turns clipping off. */
  readonly maxGradNorm: number;
  readonly adamw: AdamWSettings;
  /** Drives the data order and dropout. */
  readonly seed: number;
  readonly padToken: number;
}

export const DEFAULT_TRAINING: Omit<TrainingSettings, 'padToken'> = {
  epochs: 3,
  batchSize: 4,
  gradientAccumulation: 1,
  learningRate: 2e-4,
  warmupRatio: 0.03,
  decay: 'cosine',
  maxGradNorm: 1,
  adamw: DEFAULT_ADAMW,
  seed: 42,
};

/** Where a run stands: enough, with the dropout generator's state, to resume on the same data. */
export interface TrainingPosition {
  /** Optimizer steps done. */
  readonly step: number;
  readonly epoch: number;
  /** Optimizer steps done within the epoch. */
  readonly stepInEpoch: number;
  readonly random: readonly number[];
}

export interface StepReport {
  readonly step: number;
  readonly totalSteps: number;
  /** Fractional: 1.5 is half way through the second epoch. */
  readonly epoch: number;
  readonly trainLoss: number;
  readonly trainMeanTokenAccuracy: number;
  readonly learningRate: number;
  readonly gradNorm: number;
  /** Trained (weighted) tokens in this step. */
  readonly trainedTokens: number;
  /** All tokens processed in this step, padding excluded. */
  readonly tokens: number;
}

/**
 * One training run over a fixed set of examples: each epoch visits them in an order drawn from the
 * seed and the epoch number alone, so a run resumed from a {@link TrainingPosition} sees exactly the
 * batches the uninterrupted run would have seen.
 */
export class TrainingRun {
  readonly model: LlamaModel;
  readonly settings: TrainingSettings;
  readonly optimizer: AdamW;
  readonly stepsPerEpoch: number;
  readonly totalSteps: number;
  readonly schedule: LearningRateSchedule;
  readonly #examples: readonly TokenizedExample[];
  readonly #norm;
  #random: Random;
  #step = 0;
  #epoch = 0;
  #stepInEpoch = 0;
  #order: number[] | null = null;

  constructor(model: LlamaModel, examples: readonly TokenizedExample[], settings: TrainingSettings) {
    checkSettings(settings, examples.length);
    this.model = model;
    this.settings = settings;
    this.#examples = examples;
    this.optimizer = new AdamW(model.backend, model.parameters, settings.adamw);
    this.stepsPerEpoch = Math.ceil(examples.length / (settings.batchSize * settings.gradientAccumulation));
    this.totalSteps = this.stepsPerEpoch * settings.epochs;
    this.schedule = checkSchedule({
      peak: settings.learningRate,
      warmupSteps: settings.warmupSteps ?? Math.ceil(this.totalSteps * settings.warmupRatio),
      totalSteps: this.totalSteps,
      decay: settings.decay,
    });
    this.#random = Random.fromSeed(settings.seed ^ 0x5eed);
    this.#norm = model.backend.allocate('f32', 1);
  }

  get exampleCount(): number {
    return this.#examples.length;
  }

  get done(): boolean {
    return this.#step >= this.totalSteps;
  }

  get position(): TrainingPosition {
    return {
      step: this.#step,
      epoch: this.#epoch,
      stepInEpoch: this.#stepInEpoch,
      random: this.#random.state(),
    };
  }

  /** Continues from a saved position; the caller restores weights and optimizer moments. */
  resume(position: TrainingPosition): void {
    const consistent =
      Number.isInteger(position.step) &&
      Number.isInteger(position.epoch) &&
      Number.isInteger(position.stepInEpoch) &&
      position.stepInEpoch >= 0 &&
      position.stepInEpoch < this.stepsPerEpoch &&
      position.step === position.epoch * this.stepsPerEpoch + position.stepInEpoch;
    if (!consistent || position.step > this.totalSteps) {
      throw new TrainingConfigError(
        'position',
        `cannot resume at step ${position.step} (epoch ${position.epoch}, step ${position.stepInEpoch} in it): the run has ${this.totalSteps} steps, ${this.stepsPerEpoch} per epoch`,
      );
    }
    this.#step = position.step;
    this.#epoch = position.epoch;
    this.#stepInEpoch = position.stepInEpoch;
    this.#random = Random.fromState(position.random);
    this.#order = null;
  }

  /** The example indices of an epoch, in the order it visits them. */
  epochOrder(epoch: number): number[] {
    const order = Array.from({ length: this.#examples.length }, (_, i) => i);
    return Random.fromSeed((this.settings.seed + Math.imul(epoch + 1, 0x9e3779b1)) >>> 0).shuffle(order);
  }

  /** One optimizer step: forward and backward over its micro-batches, clipping, AdamW. */
  async step(): Promise<StepReport> {
    if (this.done)
      throw new TrainingConfigError('steps', `the run has finished its ${this.totalSteps} steps`);
    const { model, settings } = this;
    this.#order ??= this.epochOrder(this.#epoch);
    const perStep = settings.batchSize * settings.gradientAccumulation;
    const indices = this.#order.slice(this.#stepInEpoch * perStep, (this.#stepInEpoch + 1) * perStep);
    const examples = indices.map((i) => this.#examples[i]!);
    const weight = trainedWeight(examples);
    model.backend.fill(model.parameters.gradients, 0);
    let loss = 0;
    let correct = 0;
    let tokens = 0;
    // Nothing below waits for the back end until every kernel of the step is issued.
    const passes: Promise<LossTotals>[] = [];
    for (const group of chunks(examples, settings.batchSize)) {
      model.forward(padSequences(group, settings.padToken), { training: true, random: this.#random });
      if (weight > 0) model.backward(1 / weight);
      passes.push(model.lossTotals());
      tokens += group.reduce((sum, example) => sum + example.tokens.length, 0);
    }
    const norm = clipByGlobalNorm(
      model.backend,
      model.parameters.gradients,
      settings.maxGradNorm,
      this.#norm,
    );
    this.#step += 1;
    const learningRate = learningRateAt(this.schedule, this.#step);
    if (weight > 0) this.optimizer.update(this.#step, learningRate);
    for (const totals of await Promise.all(passes)) {
      loss += totals.loss;
      correct += totals.correct;
    }
    const gradNorm = await norm;
    this.#stepInEpoch += 1;
    const epoch = this.#epoch + this.#stepInEpoch / this.stepsPerEpoch;
    if (this.#stepInEpoch === this.stepsPerEpoch) {
      this.#epoch += 1;
      this.#stepInEpoch = 0;
      this.#order = null;
    }
    return {
      step: this.#step,
      totalSteps: this.totalSteps,
      epoch,
      trainLoss: weight > 0 ? loss / weight : Number.NaN,
      trainMeanTokenAccuracy: weight > 0 ? correct / weight : Number.NaN,
      learningRate,
      gradNorm,
      trainedTokens: weight,
      tokens,
    };
  }
}

function checkSettings(settings: TrainingSettings, exampleCount: number): void {
  const positiveInteger: (keyof TrainingSettings)[] = ['epochs', 'batchSize', 'gradientAccumulation'];
  for (const key of positiveInteger) {
    const value = settings[key];
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
      throw new TrainingConfigError(key, `${key} must be a positive integer, got ${String(value)}`);
    }
  }
  if (exampleCount < 1) throw new TrainingConfigError('examples', 'training needs at least one example');
  if (!(settings.maxGradNorm > 0))
    throw new TrainingConfigError('maxGradNorm', `maxGradNorm must be positive, got ${settings.maxGradNorm}`);
  if (!(settings.warmupRatio >= 0 && settings.warmupRatio <= 1)) {
    throw new TrainingConfigError(
      'warmupRatio',
      `warmupRatio must be between 0 and 1, got ${settings.warmupRatio}`,
    );
  }
}

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TrainingConfigError } from '../../../trainer/src/engine/errors';
import { Random } from '../../../trainer/src/engine/random';
import { ReferenceBackend } from '../../../trainer/src/engine/reference';
import { LlamaModel } from '../../../trainer/src/model/llama';
import type { TrainingMethod } from '../../../trainer/src/model/method';
import { resumeRunCheckpoint, saveRunCheckpoint } from '../../../trainer/src/train/checkpoint';
import { evaluate } from '../../../trainer/src/train/evaluate';
import type { TokenizedExample } from '../../../trainer/src/train/examples';
import { DEFAULT_TRAINING, TrainingRun, type TrainingSettings } from '../../../trainer/src/train/run';
import { createTinyModel, type TinyModel } from '../../helpers/trainer/tiny-model';

let dir: string;
let tiny: TinyModel;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'whetstone-run-'));
  tiny = await createTinyModel(dir, {
    vocabSize: 32,
    hiddenSize: 16,
    numLayers: 2,
    numHeads: 4,
    numKvHeads: 2,
    intermediateSize: 32,
    seed: 3,
  });
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Eight sequences of 6-9 tokens; the first two tokens are a prompt that does not train. */
function examples(count = 8): TokenizedExample[] {
  const random = Random.fromSeed(99);
  return Array.from({ length: count }, () => {
    const length = 6 + random.below(4);
    const tokens = Int32Array.from({ length }, () => 1 + random.below(31));
    const lossWeights = Float32Array.from({ length }, (_, t) => (t < 2 ? 0 : 1));
    return { tokens, lossWeights };
  });
}

function newModel(method: TrainingMethod): LlamaModel {
  return LlamaModel.create(new ReferenceBackend(), tiny.config, method, {
    weights: tiny.tensors,
    random: Random.fromSeed(7),
  });
}

const LORA: TrainingMethod = { kind: 'lora', rank: 4, alpha: 8, dropout: 0.1, targetModules: 'all-linear' };

function settings(overrides: Partial<TrainingSettings> = {}): TrainingSettings {
  return {
    ...DEFAULT_TRAINING,
    padToken: 0,
    epochs: 2,
    batchSize: 2,
    learningRate: 1e-2,
    warmupRatio: 0,
    ...overrides,
  };
}

async function lossCurve(
  model: LlamaModel,
  data: TokenizedExample[],
  overrides: Partial<TrainingSettings> = {},
): Promise<number[]> {
  const run = new TrainingRun(model, data, settings(overrides));
  const losses: number[] = [];
  while (!run.done) losses.push((await run.step()).trainLoss);
  return losses;
}

describe('TrainingRun', () => {
  it('memorizes eight examples with full fine-tuning: loss falls below 0.05', async () => {
    // Prepare
    const data = examples();
    const model = newModel({ kind: 'full' });
    const before = await evaluate(model, data, 8, 0);

    // Act
    const losses = await lossCurve(model, data, { epochs: 150, batchSize: 8, learningRate: 1e-2 });
    const after = await evaluate(model, data, 8, 0);

    // Assess
    expect(before.loss).toBeGreaterThan(3);
    expect(losses).toHaveLength(150);
    expect(after.loss).toBeLessThan(0.05);
    expect(after.meanTokenAccuracy).toBe(1);
    expect(after.tokens).toBe(data.reduce((sum, e) => sum + e.tokens.length - 2, 0));
  });

  it('gives the same loss curve, bit for bit, for the same seed', async () => {
    // Act
    const first = await lossCurve(newModel(LORA), examples());
    const second = await lossCurve(newModel(LORA), examples());
    const otherSeed = await lossCurve(newModel(LORA), examples(), { seed: 43 });

    // Assess
    expect(first).toHaveLength(8);
    expect(second).toEqual(first);
    expect(otherSeed).not.toEqual(first);
  });

  it('adds two accumulated batches of 2 up to the gradients and loss of one batch of 4', async () => {
    // Prepare
    const data = examples(4);
    const whole = newModel({ kind: 'full' });
    const accumulated = newModel({ kind: 'full' });
    const unclipped = { epochs: 1, maxGradNorm: Number.POSITIVE_INFINITY };

    // Act
    const one = await new TrainingRun(whole, data, settings({ ...unclipped, batchSize: 4 })).step();
    const two = await new TrainingRun(
      accumulated,
      data,
      settings({ ...unclipped, batchSize: 2, gradientAccumulation: 2 }),
    ).step();

    // Assess: the gradients are left in place after the step.
    const a = await whole.backend.read(whole.parameters.gradients);
    const b = await accumulated.backend.read(accumulated.parameters.gradients);
    let worst = 0;
    let largest = 0;
    for (let i = 0; i < a.length; i++) {
      worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
      largest = Math.max(largest, Math.abs(a[i]!));
    }
    expect(largest).toBeGreaterThan(1e-3);
    expect(worst / largest).toBeLessThan(1e-5);
    expect(two.gradNorm).toBeCloseTo(one.gradNorm, 5);
    expect(two.trainLoss).toBeCloseTo(one.trainLoss, 5);
    expect(two.trainedTokens).toBe(one.trainedTokens);
  });

  it('resumes from a checkpoint to the same losses and weights, bit for bit, across an epoch boundary', async () => {
    // Prepare: 8 examples in steps of 2 make 4 steps an epoch; LoRA dropout draws from the generator.
    const data = examples();
    const uninterrupted = new TrainingRun(newModel(LORA), data, settings());
    const expected: number[] = [];
    for (let i = 0; i < 6; i++) expected.push((await uninterrupted.step()).trainLoss);
    const interrupted = new TrainingRun(newModel(LORA), data, settings());
    const losses: number[] = [];
    for (let i = 0; i < 3; i++) losses.push((await interrupted.step()).trainLoss);
    const checkpoint = join(dir, 'checkpoint-3');
    await saveRunCheckpoint(checkpoint, interrupted, { note: 'step 3' });

    // Act: a new process would build a fresh model and run, then resume.
    const resumed = new TrainingRun(newModel(LORA), data, settings());
    const meta = await resumeRunCheckpoint(checkpoint, resumed);
    for (let i = 0; i < 3; i++) losses.push((await resumed.step()).trainLoss);

    // Assess
    expect(meta).toEqual({ note: 'step 3' });
    expect(losses).toEqual(expected);
    expect(await resumed.model.backend.read(resumed.model.parameters.trainable)).toEqual(
      await uninterrupted.model.backend.read(uninterrupted.model.parameters.trainable),
    );
    expect(await resumed.model.backend.read(resumed.optimizer.v)).toEqual(
      await uninterrupted.model.backend.read(uninterrupted.optimizer.v),
    );
    expect(resumed.position).toEqual(uninterrupted.position);
  });

  it('refuses to resume a checkpoint made with another data order', async () => {
    // Prepare
    const run = new TrainingRun(newModel(LORA), examples(), settings());
    await run.step();
    const checkpoint = join(dir, 'checkpoint-seed');
    await saveRunCheckpoint(checkpoint, run);

    // Act
    const other = new TrainingRun(newModel(LORA), examples(), settings({ seed: 7 }));

    // Assess
    await expect(resumeRunCheckpoint(checkpoint, other)).rejects.toThrow(
      new TrainingConfigError(
        'seed',
        `the checkpoint in ${checkpoint} was made with seed 42, this run has 7: resuming would change the data order`,
      ),
    );
  });

  it('visits every example once per epoch, in an order fixed by the seed and the epoch', () => {
    // Prepare
    const run = new TrainingRun(newModel(LORA), examples(), settings());

    // Act
    const epoch0 = run.epochOrder(0);
    const epoch1 = run.epochOrder(1);

    // Assess
    expect([...epoch0].sort()).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(epoch1).not.toEqual(epoch0);
    expect(run.epochOrder(0)).toEqual(epoch0);
  });

  it('refuses settings that cannot work, naming them', () => {
    expect(() => new TrainingRun(newModel(LORA), examples(), settings({ batchSize: 0 }))).toThrow(
      new TrainingConfigError('batchSize', 'batchSize must be a positive integer, got 0'),
    );
    expect(() => new TrainingRun(newModel(LORA), [], settings())).toThrow(
      'training needs at least one example',
    );
    expect(() => new TrainingRun(newModel(LORA), examples(), settings({ learningRate: -1 }))).toThrow(
      'learning rate must be a positive number, got -1',
    );
  });
});

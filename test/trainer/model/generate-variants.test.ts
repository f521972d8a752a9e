import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EngineError } from '../../../trainer/src/engine/errors';
import { Random } from '../../../trainer/src/engine/random';
import { ReferenceBackend } from '../../../trainer/src/engine/reference';
import type { ModelConfig } from '../../../trainer/src/model/config';
import { LlamaModel } from '../../../trainer/src/model/llama';
import type { LoraMethod, TrainingMethod } from '../../../trainer/src/model/method';
import type { HostTensor } from '../../../trainer/src/model/safetensors';
import type { TokenizedExample } from '../../../trainer/src/train/examples';
import { DEFAULT_TRAINING, TrainingRun } from '../../../trainer/src/train/run';
import { largestDifference, relativeError } from '../../helpers/trainer/assertions';
import { createTinyModel, type TinyModel } from '../../helpers/trainer/tiny-model';
import { randomAdapter } from '../../helpers/trainer/weights';

let dir: string;
let llama: TinyModel;
let qwen: TinyModel;
let mistral: TinyModel;
let mistralOneLayer: TinyModel;

const SHAPE = { vocabSize: 40, hiddenSize: 16, numHeads: 4, numKvHeads: 2, intermediateSize: 24, scale: 0.3 };

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'whetstone-generate-variants-'));
  llama = await createTinyModel(join(dir, 'llama'), { ...SHAPE, numLayers: 2, seed: 8 });
  qwen = await createTinyModel(join(dir, 'qwen'), { ...SHAPE, architecture: 'qwen2', numLayers: 2, seed: 9 });
  mistral = await createTinyModel(join(dir, 'mistral'), {
    ...SHAPE,
    architecture: 'mistral',
    numLayers: 2,
    seed: 10,
    configOverrides: { sliding_window: 4 },
  });
  mistralOneLayer = await createTinyModel(join(dir, 'mistral-1'), {
    ...SHAPE,
    architecture: 'mistral',
    numLayers: 1,
    seed: 11,
    scale: 0.5,
    configOverrides: { sliding_window: 4 },
  });
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function newModel(
  tiny: TinyModel,
  method: TrainingMethod = { kind: 'full' },
  options: { config?: ModelConfig; adapter?: Map<string, HostTensor> } = {},
): LlamaModel {
  return LlamaModel.create(new ReferenceBackend(), options.config ?? tiny.config, method, {
    weights: tiny.tensors,
    ...(options.adapter ? { adapter: options.adapter } : {}),
    random: Random.fromSeed(1),
  });
}

/** Logits (T, V) of one sequence at positions 0..T-1, recomputed from scratch. */
async function sequenceLogits(model: LlamaModel, tokens: readonly number[]): Promise<Float32Array> {
  model.forward({
    batch: 1,
    length: tokens.length,
    tokens: Int32Array.from(tokens),
    positions: Int32Array.from(tokens, (_, t) => t),
  });
  return model.logits();
}

/** The oracle: the whole sequence through forward again for every new token, no cache. */
async function greedyWithoutCache(model: LlamaModel, prompt: number[], count: number): Promise<number[]> {
  const V = model.config.vocabSize;
  const sequence = [...prompt];
  for (let i = 0; i < count; i++) {
    const T = sequence.length;
    const logits = (await sequenceLogits(model, sequence)).subarray((T - 1) * V, T * V);
    let best = 0;
    for (let v = 1; v < V; v++) if (logits[v]! > logits[best]!) best = v;
    sequence.push(best);
  }
  return sequence.slice(prompt.length);
}

const PROMPT = [3, 17, 5, 29, 11, 8, 2];

describe('LlamaModel.generate with a LoRA adapter and q/k/v bias (Qwen2)', () => {
  const method: LoraMethod = { kind: 'lora', rank: 2, alpha: 4, dropout: 0.1, targetModules: 'all-linear' };

  function adapter(): Map<string, HostTensor> {
    return randomAdapter(qwen.config, method, 5, 0.5);
  }

  it('decodes with its cache exactly what full recomputation picks, with non-zero B', async () => {
    // Prepare
    const base = await sequenceLogits(newModel(qwen), PROMPT);
    const adapted = await sequenceLogits(newModel(qwen, method, { adapter: adapter() }), PROMPT);

    // Act
    const cached = await newModel(qwen, method, { adapter: adapter() }).generate(PROMPT, {
      maxNewTokens: 10,
    });
    const recomputed = await greedyWithoutCache(newModel(qwen, method, { adapter: adapter() }), PROMPT, 10);
    const withoutAdapter = await greedyWithoutCache(newModel(qwen), PROMPT, 10);

    // Assess
    expect(largestDifference(adapted, base)).toBeGreaterThan(0.1);
    expect(withoutAdapter).not.toEqual(recomputed);
    expect(cached).toHaveLength(10);
    expect(cached).toEqual(recomputed);
    expect(new Set(cached).size).toBeGreaterThan(1);
  });
});

describe('LlamaModel.generate after training steps', () => {
  function examples(): TokenizedExample[] {
    const random = Random.fromSeed(4);
    return [9, 6, 12, 7].map((length) => ({
      tokens: Int32Array.from({ length }, () => 1 + random.below(39)),
      lossWeights: Float32Array.from({ length }, (_, t) => (t < 2 ? 0 : 1)),
    }));
  }

  const settings = {
    ...DEFAULT_TRAINING,
    padToken: 0,
    epochs: 3,
    batchSize: 2,
    learningRate: 5e-3,
    warmupRatio: 0,
  };
  const lora: LoraMethod = { kind: 'lora', rank: 4, alpha: 8, dropout: 0.1, targetModules: 'all-linear' };

  it('decodes with its cache what recomputation picks, on the buffers training sized', async () => {
    // Prepare
    const model = newModel(llama, { kind: 'full' });
    const before = await sequenceLogits(model, PROMPT);
    const untrained = await greedyWithoutCache(model, PROMPT, 10);
    const run = new TrainingRun(model, examples(), settings);
    for (let i = 0; i < 3; i++) await run.step();
    const after = await sequenceLogits(model, PROMPT);

    // Act
    const cached = await model.generate(PROMPT, { maxNewTokens: 10 });
    const recomputed = await greedyWithoutCache(model, PROMPT, 10);
    const cachedAgain = await model.generate(PROMPT.slice(0, 2), { maxNewTokens: 15 });
    const recomputedAgain = await greedyWithoutCache(model, PROMPT.slice(0, 2), 15);

    // Assess
    expect(largestDifference(after, before)).toBeGreaterThan(0.01);
    expect(untrained).not.toEqual(recomputed);
    expect(cached).toEqual(recomputed);
    expect(cachedAgain).toEqual(recomputedAgain);
  });

  it('leaves training as it was: steps after a generation equal the uninterrupted run, bit for bit', async () => {
    // Prepare
    const interrupted = newModel(llama, lora);
    const uninterrupted = newModel(llama, lora);
    const first = new TrainingRun(interrupted, examples(), settings);
    const second = new TrainingRun(uninterrupted, examples(), settings);
    for (let i = 0; i < 2; i++) {
      await first.step();
      await second.step();
    }

    // Act
    await interrupted.generate(PROMPT, { maxNewTokens: 20 });
    const resumed = [await first.step(), await first.step()];
    const straight = [await second.step(), await second.step()];

    // Assess
    expect(resumed).toEqual(straight);
    expect(await interrupted.backend.read(interrupted.parameters.trainable)).toEqual(
      await uninterrupted.backend.read(uninterrupted.parameters.trainable),
    );
  });
});

describe('LlamaModel.generate with a sliding window (Mistral)', () => {
  it('reads the window from config.json', () => {
    // Act and Assess
    expect(mistral.config.slidingWindow).toBe(4);
    expect(mistralOneLayer.config.slidingWindow).toBe(4);
  });

  it('decodes past the window with its cache exactly what recomputation with the same window picks', async () => {
    // Prepare
    const unwindowed = newModel(
      mistral,
      { kind: 'full' },
      { config: { ...mistral.config, slidingWindow: null } },
    );
    const windowed = newModel(mistral);

    // Act
    const cached = await newModel(mistral).generate(PROMPT, { maxNewTokens: 12 });
    const recomputed = await greedyWithoutCache(newModel(mistral), PROMPT, 12);
    const otherWindows = await Promise.all(
      [3, 5].map((slidingWindow) =>
        greedyWithoutCache(
          newModel(mistral, { kind: 'full' }, { config: { ...mistral.config, slidingWindow } }),
          PROMPT,
          12,
        ),
      ),
    );

    // Assess: the window changes what the last token sees, and one more or one less picks other tokens.
    const V = mistral.config.vocabSize;
    const last = (logits: Float32Array) => logits.subarray((PROMPT.length - 1) * V);
    expect(
      largestDifference(
        last(await sequenceLogits(windowed, PROMPT)),
        last(await sequenceLogits(unwindowed, PROMPT)),
      ),
    ).toBeGreaterThan(1e-3);
    expect(otherWindows[0]).not.toEqual(recomputed);
    expect(otherWindows[1]).not.toEqual(recomputed);
    expect(cached).toHaveLength(12);
    expect(cached).toEqual(recomputed);
    expect(new Set(cached).size).toBeGreaterThan(1);
  });

  it('gives the last token of one layer the logits of its last W tokens alone at positions 0..W-1', async () => {
    // Prepare: RoPE scores depend on relative positions only, so shifting the window changes nothing.
    const V = mistralOneLayer.config.vocabSize;
    const tokens = [3, 17, 5, 29, 11, 8, 2, 33, 21];
    const windowed = newModel(mistralOneLayer);
    const unwindowed = newModel(
      mistralOneLayer,
      { kind: 'full' },
      { config: { ...mistralOneLayer.config, slidingWindow: null } },
    );

    // Act
    const whole = (await sequenceLogits(windowed, tokens)).slice((tokens.length - 1) * V);
    const lastFour = (await sequenceLogits(windowed, tokens.slice(-4))).slice(3 * V);
    const unwindowedWhole = (await sequenceLogits(unwindowed, tokens)).slice((tokens.length - 1) * V);

    // Assess
    expect(relativeError(whole, lastFour)).toBeLessThan(1e-5);
    expect(relativeError(unwindowedWhole, lastFour)).toBeGreaterThan(1e-3);
  });
});

describe('LlamaModel logits guards', () => {
  const batch = {
    batch: 1,
    length: 4,
    tokens: Int32Array.from([3, 7, 9, 1]),
    positions: Int32Array.from([0, 1, 2, 3]),
    targets: Int32Array.from([7, 9, 1, 0]),
    weights: Float32Array.from([1, 1, 1, 0]),
  };
  const consumed =
    "backward has overwritten this forward pass's logits with their gradient; run forward again";

  it('refuses logits() and a second backward() after backward, and allows both after a new forward', async () => {
    // Prepare
    const model = newModel(llama);
    model.forward(batch);
    const logits = await model.logits();
    const totals = await model.lossTotals();

    // Act
    model.backward(1 / 3);

    // Assess
    await expect(model.logits()).rejects.toThrow(new EngineError(consumed));
    expect(() => model.backward(1)).toThrow(new EngineError(consumed));
    expect(await model.lossTotals()).toEqual(totals);
    model.forward(batch);
    expect(await model.logits()).toEqual(logits);
    expect(() => model.backward(1 / 3)).not.toThrow();
  });

  it('has no forward pass to read before forward or after generate', async () => {
    // Prepare
    const model = newModel(llama);
    const none = 'no forward pass to read from: call forward first';

    // Act and Assess
    await expect(model.logits()).rejects.toThrow(new EngineError(none));
    expect(() => model.backward(1)).toThrow(new EngineError(none));
    model.forward(batch);
    await model.generate([3, 7], { maxNewTokens: 2 });
    await expect(model.logits()).rejects.toThrow(new EngineError(none));
    await expect(model.lossTotals()).rejects.toThrow(new EngineError(none));
    expect(() => model.backward(1)).toThrow(new EngineError(none));
  });
});

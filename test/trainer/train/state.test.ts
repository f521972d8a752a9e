import { copyFile, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DeviceBuffer } from '../../../trainer/src/engine/backend';
import { EngineError } from '../../../trainer/src/engine/errors';
import { Random } from '../../../trainer/src/engine/random';
import { ReferenceBackend } from '../../../trainer/src/engine/reference';
import type { ModelConfig } from '../../../trainer/src/model/config';
import { MalformedModelFileError } from '../../../trainer/src/model/errors';
import { LlamaModel } from '../../../trainer/src/model/llama';
import type { TrainingMethod } from '../../../trainer/src/model/method';
import { readSafetensorsHeader } from '../../../trainer/src/model/safetensors';
import {
  loadTrainingState,
  type OptimizerMoments,
  readTrainingProgress,
  saveTrainingState,
  type TrainingProgress,
} from '../../../trainer/src/train/state';
import { bits, failure } from '../../helpers/trainer/assertions';
import { randomWeights, tinyLlamaConfig } from '../../helpers/trainer/weights';

const CONFIG = tinyLlamaConfig();
const LORA: TrainingMethod = {
  kind: 'lora',
  rank: 2,
  alpha: 4,
  dropout: 0.1,
  targetModules: ['q_proj', 'v_proj'],
};

const BATCHES = [0, 1, 2, 3].map((index) => ({
  batch: 2,
  length: 4,
  tokens: Int32Array.from({ length: 8 }, (_, i) => (7 * i + 3 * index + 1) % 32),
  positions: Int32Array.from([0, 1, 2, 3, 0, 1, 2, 3]),
  targets: Int32Array.from({ length: 8 }, (_, i) => (5 * i + index + 2) % 32),
  weights: Float32Array.from([0, 1, 1, 1, 0, 0, 1, 1]),
}));

/** A model (LoRA's A drawn from `seed`) with zeroed AdamW moments beside it. */
function modelWithMoments(method: TrainingMethod, seed: number, config = CONFIG) {
  const backend = new ReferenceBackend();
  const model = LlamaModel.create(backend, config, method, {
    weights: randomWeights(config, 1),
    random: Random.fromSeed(seed),
  });
  const length = model.parameters.trainable.length;
  const moments: OptimizerMoments = {
    m: backend.allocate('f32', length),
    v: backend.allocate('f32', length),
  };
  return { backend, model, moments };
}

/** One AdamW step on one batch, with dropout drawn from `random`; returns the summed loss. */
async function trainStep(
  setup: ReturnType<typeof modelWithMoments>,
  random: Random,
  step: number,
): Promise<number> {
  const { backend, model, moments } = setup;
  const { parameters } = model;
  backend.fill(parameters.gradients, 0);
  model.forward(BATCHES[step - 1]!, { training: true, random });
  const totals = await model.lossTotals();
  model.backward(1 / totals.weight);
  for (const range of parameters.ranges) {
    const part = (buffer: DeviceBuffer) => backend.view(buffer, range.offset, range.length);
    backend.adamw(part(parameters.trainable), part(parameters.gradients), part(moments.m), part(moments.v), {
      learningRate: 0.01,
      beta1: 0.9,
      beta2: 0.999,
      epsilon: 1e-8,
      weightDecay: range.decay ? 0.1 : 0,
      step,
    });
  }
  return totals.loss;
}

/** The bit patterns of a float32 buffer's contents. */
async function bitsOf(backend: ReferenceBackend, buffer: DeviceBuffer): Promise<Uint32Array> {
  return bits((await backend.read(buffer)) as Float32Array);
}

const PROGRESS: TrainingProgress = {
  step: 2,
  rng: [1, 2, 3, 0xffffffff],
  dataPosition: { epoch: 1, batchIndex: 2, orderSeed: 42 },
  meta: { learningRate: 0.01, method: { kind: 'lora', rank: 2 }, note: 'ünïcode' },
};

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'whetstone-state-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('saveTrainingState and loadTrainingState', () => {
  it('restore weights and moments bit for bit, and the progress as saved', async () => {
    // Prepare
    const saved = modelWithMoments(LORA, 3);
    const random = Random.fromSeed(9);
    const values = (length: number) =>
      Float32Array.from({ length }, (_, i) => [-0, 1.4e-45, -3.4028234663852886e38][i] ?? random.normal());
    const length = saved.model.parameters.trainable.length;
    saved.backend.write(saved.model.parameters.trainable, values(length));
    saved.backend.write(saved.moments.m, values(length));
    saved.backend.write(saved.moments.v, values(length).map(Math.abs));
    const restored = modelWithMoments(LORA, 4);

    // Act
    await saveTrainingState(dir, saved.model, saved.moments, PROGRESS);
    const progress = await loadTrainingState(dir, restored.model, restored.moments);

    // Assess
    expect(progress).toEqual(PROGRESS);
    for (const buffer of ['trainable', 'm', 'v'] as const) {
      const from = buffer === 'trainable' ? saved.model.parameters.trainable : saved.moments[buffer];
      const to = buffer === 'trainable' ? restored.model.parameters.trainable : restored.moments[buffer];
      expect(await bitsOf(restored.backend, to), buffer).toEqual(await bitsOf(saved.backend, from));
    }
    expect((await bitsOf(restored.backend, restored.model.parameters.trainable)).slice(0, 3)).toEqual(
      Uint32Array.from([0x80000000, 1, 0xff7fffff]),
    );
  });

  it('resume a run that then continues exactly as the uninterrupted run', async () => {
    // Prepare
    const uninterrupted = modelWithMoments(LORA, 3);
    const random = Random.fromSeed(11);
    const losses: number[] = [];
    for (let step = 1; step <= 4; step++) losses.push(await trainStep(uninterrupted, random, step));
    const first = modelWithMoments(LORA, 3);
    const firstRandom = Random.fromSeed(11);
    for (let step = 1; step <= 2; step++) await trainStep(first, firstRandom, step);
    await saveTrainingState(dir, first.model, first.moments, {
      step: 2,
      rng: firstRandom.state(),
      dataPosition: { epoch: 0, batchIndex: 2 },
      meta: {},
    });
    const resumed = modelWithMoments(LORA, 8);

    // Act
    const progress = await loadTrainingState(dir, resumed.model, resumed.moments);
    const resumedRandom = Random.fromState(progress.rng);
    const resumedLosses: number[] = [];
    for (let step = progress.step + 1; step <= 4; step++) {
      resumedLosses.push(await trainStep(resumed, resumedRandom, step));
    }

    // Assess
    expect(resumedLosses).toEqual(losses.slice(2));
    expect(await bitsOf(resumed.backend, resumed.model.parameters.trainable)).toEqual(
      await bitsOf(uninterrupted.backend, uninterrupted.model.parameters.trainable),
    );
    expect(await bitsOf(resumed.backend, resumed.moments.v)).toEqual(
      await bitsOf(uninterrupted.backend, uninterrupted.moments.v),
    );
    expect(losses[3]).not.toBe(losses[2]);
  });

  it('write the tensors with the trainable layout in the header, and the progress as JSON', async () => {
    // Prepare
    const { model, moments } = modelWithMoments(LORA, 3);

    // Act
    await saveTrainingState(dir, model, moments, PROGRESS);

    // Assess
    expect((await readdir(dir)).sort()).toEqual(['trainer_state.json', 'training_state.safetensors']);
    const header = await readSafetensorsHeader(join(dir, 'training_state.safetensors'));
    expect([...header.tensors].map(([name, entry]) => [name, entry.dtype, entry.shape])).toEqual([
      ['adam_m', 'F32', [224]],
      ['adam_v', 'F32', [224]],
      ['trainable', 'F32', [224]],
    ]);
    const json = JSON.parse(await readFile(join(dir, 'trainer_state.json'), 'utf8'));
    expect(json).toEqual({
      format: 'whetstone-training-state',
      version: 1,
      checkpoint: header.metadata.checkpoint,
      step: 2,
      rng_state: [1, 2, 3, 4294967295],
      data_position: { epoch: 1, batchIndex: 2, orderSeed: 42 },
      meta: { learningRate: 0.01, method: { kind: 'lora', rank: 2 }, note: 'ünïcode' },
    });
    expect(header.metadata.checkpoint).toMatch(/^[0-9a-f]{16}$/);
    expect(header.metadata.format).toBe('whetstone-training-state');
    expect(header.metadata.version).toBe('1');
    expect(JSON.parse(header.metadata.parameters!)).toEqual(
      [0, 1].flatMap((layer) => [
        { name: `model.layers.${layer}.self_attn.q_proj.lora_A.weight`, offset: 112 * layer, shape: [2, 16] },
        {
          name: `model.layers.${layer}.self_attn.q_proj.lora_B.weight`,
          offset: 112 * layer + 32,
          shape: [16, 2],
        },
        {
          name: `model.layers.${layer}.self_attn.v_proj.lora_A.weight`,
          offset: 112 * layer + 64,
          shape: [2, 16],
        },
        {
          name: `model.layers.${layer}.self_attn.v_proj.lora_B.weight`,
          offset: 112 * layer + 96,
          shape: [8, 2],
        },
      ]),
    );
    expect(await readTrainingProgress(dir)).toEqual(PROGRESS);
  });

  const layoutCases: [string, TrainingMethod, ModelConfig, string][] = [
    [
      'another rank',
      { ...LORA, rank: 4 } as TrainingMethod,
      CONFIG,
      'training_state.safetensors: parameter "model.layers.0.self_attn.q_proj.lora_A.weight" has shape [2, 16], expected [4, 16]',
    ],
    [
      'other target modules',
      { ...LORA, targetModules: ['q_proj', 'k_proj'] } as TrainingMethod,
      CONFIG,
      'training_state.safetensors: trainable parameter 2 is "model.layers.0.self_attn.v_proj.lora_A.weight", expected "model.layers.0.self_attn.k_proj.lora_A.weight"',
    ],
    [
      'more layers',
      LORA,
      tinyLlamaConfig({ num_hidden_layers: 3 }),
      'training_state.safetensors: trainable parameter 8 is missing, expected "model.layers.2.self_attn.q_proj.lora_A.weight": the saved state has 8, the model 12',
    ],
    [
      'fewer layers',
      LORA,
      tinyLlamaConfig({ num_hidden_layers: 1 }),
      'training_state.safetensors: trainable parameter 4 is "model.layers.1.self_attn.q_proj.lora_A.weight", expected none: the saved state has 8, the model 4',
    ],
    [
      'another method',
      { kind: 'partial', modules: ['q_proj'] },
      CONFIG,
      'training_state.safetensors: trainable parameter 0 is "model.layers.0.self_attn.q_proj.lora_A.weight", expected "model.layers.0.self_attn.q_proj.weight"',
    ],
  ];

  it.each(layoutCases)(
    'refuse a state saved for %s, naming the first parameter that differs',
    async (_, method, config, message) => {
      // Prepare
      const saved = modelWithMoments(LORA, 3);
      await saveTrainingState(dir, saved.model, saved.moments, PROGRESS);
      const other = modelWithMoments(method, 3, config);
      const before = await bitsOf(other.backend, other.model.parameters.trainable);

      // Act
      const error = await failure(loadTrainingState(dir, other.model, other.moments));

      // Assess
      expect(error).toBeInstanceOf(MalformedModelFileError);
      expect(error.message).toBe(message);
      expect(await bitsOf(other.backend, other.model.parameters.trainable)).toEqual(before);
    },
  );

  it('refuse a pair of files from two different saves', async () => {
    // Prepare
    const { model, moments } = modelWithMoments(LORA, 3);
    const otherDir = join(dir, 'other');
    await saveTrainingState(dir, model, moments, PROGRESS);
    await saveTrainingState(otherDir, model, moments, { ...PROGRESS, step: 3 });
    await copyFile(join(otherDir, 'trainer_state.json'), join(dir, 'trainer_state.json'));
    const kept = (await readSafetensorsHeader(join(dir, 'training_state.safetensors'))).metadata.checkpoint;
    const copied = JSON.parse(await readFile(join(dir, 'trainer_state.json'), 'utf8')).checkpoint;

    // Act
    const error = await failure(loadTrainingState(dir, model, moments));

    // Assess
    expect(error.message).toBe(
      `training_state.safetensors: belongs to another save than trainer_state.json ("checkpoint" "${kept}", not "${copied}")`,
    );
  });

  it('refuse moments that are not laid out as the trainable buffer', async () => {
    // Prepare
    const { backend, model, moments } = modelWithMoments(LORA, 3);

    // Act
    const error = await failure(
      saveTrainingState(dir, model, { m: moments.m, v: backend.allocate('f32', 100) }, PROGRESS),
    );

    // Assess
    expect(error).toBeInstanceOf(EngineError);
    expect(error.message).toBe(
      "optimizer moment v is f32 of 100 elements, expected f32 of 224: the trainable buffer's layout",
    );
  });

  it('refuse progress that JSON would not restore as given', async () => {
    // Prepare
    const { model, moments } = modelWithMoments(LORA, 3);

    // Act
    const error = await failure(
      saveTrainingState(dir, model, moments, { ...PROGRESS, dataPosition: { epoch: Number.NaN } }),
    );

    // Assess
    expect(error).toBeInstanceOf(TypeError);
    expect(error.message).toBe('dataPosition must be an object of plain JSON data, which restores as saved');
    expect(await readdir(dir)).toEqual([]);
  });

  it('name the field of a damaged trainer_state.json', async () => {
    // Prepare
    const { model, moments } = modelWithMoments(LORA, 3);
    await saveTrainingState(dir, model, moments, PROGRESS);
    const json = JSON.parse(await readFile(join(dir, 'trainer_state.json'), 'utf8'));
    await writeFile(join(dir, 'trainer_state.json'), JSON.stringify({ ...json, rng_state: [1, 2, -3, 4] }));

    // Act
    const error = await failure(loadTrainingState(dir, model, moments));

    // Assess
    expect(error).toBeInstanceOf(MalformedModelFileError);
    expect(error.message).toBe(
      'trainer_state.json: "rng_state" must be four unsigned 32-bit integers, not [1,2,-3,4]',
    );
  });
});

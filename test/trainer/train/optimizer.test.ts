import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Random } from '../../../trainer/src/engine/random';
import { ReferenceBackend } from '../../../trainer/src/engine/reference';
import { padSequences } from '../../../trainer/src/model/batch';
import { LlamaModel } from '../../../trainer/src/model/llama';
import type { TrainingMethod } from '../../../trainer/src/model/method';
import { AdamW, clipByGlobalNorm, DEFAULT_ADAMW } from '../../../trainer/src/train/optimizer';
import { createTinyModel, type TinyModel } from '../../helpers/trainer/tiny-model';

let dir: string;
let tiny: TinyModel;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'whetstone-optimizer-'));
  // Llama with attention_bias, so that q/k/v/o carry biases, which must not decay.
  tiny = await createTinyModel(dir, {
    vocabSize: 24,
    hiddenSize: 8,
    numLayers: 1,
    numHeads: 2,
    numKvHeads: 1,
    intermediateSize: 12,
    qkvBias: true,
    seed: 4,
    scale: 0.2,
  });
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function newModel(method: TrainingMethod = { kind: 'full' }): LlamaModel {
  return LlamaModel.create(new ReferenceBackend('f32'), tiny.config, method, {
    weights: tiny.tensors,
    random: Random.fromSeed(2),
  });
}

async function valuesByName(model: LlamaModel): Promise<Map<string, Float32Array>> {
  const values = new Map<string, Float32Array>();
  for (const parameter of model.parameters.all()) {
    values.set(parameter.name, (await model.backend.read(parameter.value)) as Float32Array);
  }
  return values;
}

const DECAYED = [
  'model.embed_tokens.weight',
  'model.layers.0.self_attn.q_proj.weight',
  'model.layers.0.self_attn.k_proj.weight',
  'model.layers.0.self_attn.v_proj.weight',
  'model.layers.0.self_attn.o_proj.weight',
  'model.layers.0.mlp.gate_proj.weight',
  'model.layers.0.mlp.up_proj.weight',
  'model.layers.0.mlp.down_proj.weight',
  'lm_head.weight',
];
const NOT_DECAYED = [
  'model.layers.0.input_layernorm.weight',
  'model.layers.0.self_attn.q_proj.bias',
  'model.layers.0.self_attn.k_proj.bias',
  'model.layers.0.self_attn.v_proj.bias',
  'model.layers.0.self_attn.o_proj.bias',
  'model.layers.0.post_attention_layernorm.weight',
  'model.norm.weight',
];

describe('AdamW.update', () => {
  it('lays out the trainable buffer as a decayed range of the matrices, then the norms and biases', () => {
    // Prepare
    const model = newModel();

    // Act
    const { ranges } = model.parameters;
    const trainable = model.parameters.trainableParameters();

    // Assess
    const decayedSize = trainable.filter((p) => p.decay).reduce((sum, p) => sum + p.size, 0);
    expect(trainable.filter((p) => p.decay).map((p) => p.name)).toEqual(DECAYED);
    expect(trainable.filter((p) => !p.decay).map((p) => p.name)).toEqual(NOT_DECAYED);
    expect(ranges).toEqual([
      { offset: 0, length: decayedSize, decay: true },
      { offset: decayedSize, length: model.parameters.trainableCount - decayedSize, decay: false },
    ]);
  });

  it('with zero gradients shrinks the matrices by exactly (1 - lr * wd) and leaves norms and biases', async () => {
    // Prepare
    const model = newModel();
    const optimizer = new AdamW(model.backend, model.parameters, { ...DEFAULT_ADAMW, weightDecay: 0.1 });
    const before = await valuesByName(model);
    model.backend.fill(model.parameters.gradients, 0);

    // Act
    optimizer.update(1, 0.01);

    // Assess
    const after = await valuesByName(model);
    for (const name of DECAYED) {
      const expected = before.get(name)!.map((value) => Math.fround(value * (1 - 0.01 * 0.1)));
      expect(after.get(name), name).toEqual(expected);
      expect(after.get(name), name).not.toEqual(before.get(name));
    }
    for (const name of NOT_DECAYED) expect(after.get(name), name).toEqual(before.get(name));
  });

  it('with equal gradients moves every parameter by lr on step 1, and decays only the matrices', async () => {
    // Prepare: Adam's first bias-corrected step is lr * g / (|g| + eps), about lr for any g.
    const model = newModel();
    const optimizer = new AdamW(model.backend, model.parameters, { ...DEFAULT_ADAMW, weightDecay: 0.1 });
    const before = await valuesByName(model);
    model.backend.fill(model.parameters.gradients, 0.5);

    // Act
    optimizer.update(1, 0.01);

    // Assess
    const after = await valuesByName(model);
    for (const name of [...DECAYED, ...NOT_DECAYED]) {
      const decay = DECAYED.includes(name) ? 1 - 0.01 * 0.1 : 1;
      const was = before.get(name)!;
      const now = after.get(name)!;
      for (let i = 0; i < was.length; i++) {
        expect(Math.abs(now[i]! - (was[i]! * decay - 0.01)), `${name}[${i}]`).toBeLessThan(2e-7);
      }
    }
  });

  it('keeps first and second moments in the trainable layout', async () => {
    // Prepare
    const model = newModel();
    const optimizer = new AdamW(model.backend, model.parameters, DEFAULT_ADAMW);
    model.backend.fill(model.parameters.gradients, -2);

    // Act
    optimizer.update(1, 1e-3);

    // Assess: m = (1 - beta1) g, v = (1 - beta2) g^2.
    const m = await model.backend.read(optimizer.m);
    const v = await model.backend.read(optimizer.v);
    expect(m).toHaveLength(model.parameters.trainableCount);
    expect(m.every((value) => value === Math.fround(-0.2))).toBe(true);
    expect(v.every((value) => value === Math.fround(0.001 * 4))).toBe(true);
  });
});

describe('clipByGlobalNorm', () => {
  function gradients(values: number[]) {
    const backend = new ReferenceBackend('f32');
    const buffer = backend.allocate('f32', values.length);
    backend.write(buffer, values);
    return { backend, buffer, scratch: backend.allocate('f32', 1) };
  }

  it('returns the norm before clipping and leaves the gradients with norm maxNorm', async () => {
    // Prepare
    const { backend, buffer, scratch } = gradients([3, -4, 12, 0]);

    // Act
    const norm = await clipByGlobalNorm(backend, buffer, 1, scratch);

    // Assess
    const clipped = await backend.read(buffer);
    const factor = 1 / (13 + 1e-6);
    expect(norm).toBe(13);
    expect(Array.from(clipped)).toEqual([3, -4, 12, 0].map((value) => Math.fround(value * factor)));
    expect(Math.abs(Math.hypot(...clipped) - 1)).toBeLessThan(1e-6);
  });

  it('leaves gradients below maxNorm untouched', async () => {
    // Prepare
    const { backend, buffer, scratch } = gradients([3, -4, 12, 0]);

    // Act
    const norm = await clipByGlobalNorm(backend, buffer, 20, scratch);

    // Assess
    expect(norm).toBe(13);
    expect(Array.from(await backend.read(buffer))).toEqual([3, -4, 12, 0]);
  });

  it('leaves gradients untouched with maxNorm Infinity and still reports their norm', async () => {
    // Prepare
    const { backend, buffer, scratch } = gradients([300, -400, 1200]);

    // Act
    const norm = await clipByGlobalNorm(backend, buffer, Number.POSITIVE_INFINITY, scratch);

    // Assess
    expect(norm).toBe(1300);
    expect(Array.from(await backend.read(buffer))).toEqual([300, -400, 1200]);
  });

  it('gives the norm as it was when called, even when later kernels overwrite the scratch', async () => {
    // Prepare
    const { backend, buffer, scratch } = gradients([3, -4, 12, 0]);

    // Act
    const pending = clipByGlobalNorm(backend, buffer, 1, scratch);
    backend.fill(scratch, 0);
    backend.fill(buffer, 9);
    const norm = await pending;

    // Assess
    expect(norm).toBe(13);
  });

  it("measures a model's gradients over every trainable parameter at once", async () => {
    // Prepare
    const model = newModel();
    const batch = padSequences([{ tokens: [3, 9, 14, 2, 7] }, { tokens: [5, 1, 20] }], 0);
    model.forward(batch);
    model.backward(1 / 6);
    const host = Array.from(await model.backend.read(model.parameters.gradients));
    const expected = Math.sqrt(host.reduce((sum, value) => sum + value * value, 0));
    const scratch = model.backend.allocate('f32', 1);

    // Act
    const norm = await clipByGlobalNorm(model.backend, model.parameters.gradients, expected / 4, scratch);

    // Assess
    const clipped = await model.backend.read(model.parameters.gradients);
    expect(expected).toBeGreaterThan(0);
    expect(Math.abs(norm - expected) / expected).toBeLessThan(1e-6);
    expect(Math.abs(Math.hypot(...clipped) - expected / 4) / (expected / 4)).toBeLessThan(1e-6);
  });
});

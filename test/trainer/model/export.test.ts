import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EngineError } from '../../../trainer/src/engine/errors';
import { Random } from '../../../trainer/src/engine/random';
import { ReferenceBackend } from '../../../trainer/src/engine/reference';
import { type ModelConfig, parseModelConfig, readModelConfig } from '../../../trainer/src/model/config';
import { MalformedModelFileError } from '../../../trainer/src/model/errors';
import { exportMergedModel, exportModel, readBaseWeights } from '../../../trainer/src/model/export';
import { loadHfWeights } from '../../../trainer/src/model/hf-weights';
import { LlamaModel } from '../../../trainer/src/model/llama';
import type { LoraMethod, TrainingMethod } from '../../../trainer/src/model/method';
import { mergeLora, readLoraTensors } from '../../../trainer/src/model/peft';
import { type HostTensor, readSafetensorsHeader } from '../../../trainer/src/model/safetensors';
import { bits, failure, relativeError } from '../../helpers/trainer/assertions';
import { randomWeights, tinyLlamaFields } from '../../helpers/trainer/weights';

function rawConfig(tied: boolean): Record<string, unknown> {
  return tinyLlamaFields({
    architectures: ['Qwen2ForCausalLM'],
    model_type: 'qwen2',
    rms_norm_eps: 1e-6,
    rope_theta: 1000000,
    tie_word_embeddings: tied,
    torch_dtype: 'bfloat16',
  });
}

const TOKENIZER_FILES: Record<string, string> = {
  'tokenizer.json': '{"version":"1.0","model":{"type":"BPE"}}\n',
  'tokenizer_config.json': '{"eos_token":"<|im_end|>","chat_template":"{{ messages }}"}\n',
  'special_tokens_map.json': '{"eos_token":"<|im_end|>"}\n',
  'generation_config.json': '{"eos_token_id":2,"do_sample":false}\n',
};

const BATCH = {
  batch: 1,
  length: 6,
  tokens: Int32Array.from([3, 17, 9, 30, 1, 4]),
  positions: Int32Array.from([0, 1, 2, 3, 4, 5]),
};

/** A model whose trainable parameters moved away from the base weights, as after training. */
function trainedModel(config: ModelConfig, method: TrainingMethod, weights: Map<string, HostTensor>) {
  const backend = new ReferenceBackend();
  const model = LlamaModel.create(backend, config, method, { weights, random: Random.fromSeed(5) });
  const random = Random.fromSeed(6);
  for (const parameter of model.parameters.trainableParameters()) {
    // LoRA's tensors have no base value: they move from zero.
    const base = weights.get(parameter.name)?.data;
    backend.write(
      parameter.value,
      Float32Array.from({ length: parameter.size }, (_, i) => (base?.[i] ?? 0) + 0.1 * random.normal()),
    );
  }
  return model;
}

async function logitsOf(model: LlamaModel): Promise<Float32Array> {
  model.forward(BATCH);
  return model.logits();
}

let root: string;
let sourceDir: string;
let outDir: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'whetstone-export-'));
  sourceDir = join(root, 'base');
  outDir = join(root, 'out');
  await mkdir(sourceDir);
  for (const [name, text] of Object.entries(TOKENIZER_FILES)) await writeFile(join(sourceDir, name), text);
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('exportModel', () => {
  it('writes a full fine-tune that loads back exactly, with config.json and the tokenizer files', async () => {
    // Prepare
    const raw = rawConfig(false);
    const config = parseModelConfig(raw);
    const weights = randomWeights(config, 1);
    const model = trainedModel(config, { kind: 'full' }, weights);

    // Act
    await exportModel(outDir, model, { sourceDir });

    // Assess
    expect((await readdir(outDir)).sort()).toEqual([
      'config.json',
      'generation_config.json',
      'model.safetensors',
      'special_tokens_map.json',
      'tokenizer.json',
      'tokenizer_config.json',
    ]);
    expect(JSON.parse(await readFile(join(outDir, 'config.json'), 'utf8'))).toEqual({
      ...raw,
      torch_dtype: 'float32',
    });
    for (const [name, text] of Object.entries(TOKENIZER_FILES)) {
      expect(await readFile(join(outDir, name), 'utf8'), name).toBe(text);
    }
    const loaded = await loadHfWeights(outDir, await readModelConfig(outDir));
    const current = await readBaseWeights(model);
    expect([...loaded.keys()]).toEqual([...current.keys()]);
    expect(loaded.has('lm_head.weight')).toBe(true);
    for (const [name, tensor] of current) {
      expect(bits(loaded.get(name)!.data), name).toEqual(bits(tensor.data));
      expect(bits(tensor.data), name).not.toEqual(bits(weights.get(name)!.data));
    }
  });

  it('writes a partial fine-tune with its frozen tensors, and no lm_head when tied', async () => {
    // Prepare
    const config = parseModelConfig(rawConfig(true));
    const weights = randomWeights(config, 2);
    const model = trainedModel(config, { kind: 'partial', layers: [1] }, weights);
    await rm(join(sourceDir, 'generation_config.json'));
    await rm(join(sourceDir, 'special_tokens_map.json'));

    // Act
    await exportModel(outDir, model, { sourceDir });

    // Assess
    expect((await readdir(outDir)).sort()).toEqual([
      'config.json',
      'model.safetensors',
      'tokenizer.json',
      'tokenizer_config.json',
    ]);
    const header = await readSafetensorsHeader(join(outDir, 'model.safetensors'));
    expect(header.tensors.size).toBe(1 + 2 * 12 + 1);
    expect(header.tensors.has('lm_head.weight')).toBe(false);
    const loaded = await loadHfWeights(outDir, await readModelConfig(outDir));
    for (const [name, tensor] of await readBaseWeights(model)) {
      expect(bits(loaded.get(name)!.data), name).toEqual(bits(tensor.data));
    }
    for (const name of [
      'model.embed_tokens.weight',
      'model.layers.0.self_attn.q_proj.bias',
      'model.norm.weight',
    ]) {
      expect(bits(loaded.get(name)!.data), name).toEqual(bits(weights.get(name)!.data));
    }
    const trained = 'model.layers.1.mlp.up_proj.weight';
    expect(bits(loaded.get(trained)!.data)).not.toEqual(bits(weights.get(trained)!.data));
  });

  it('refuses a LoRA model, whose adapter a plain export would drop', async () => {
    // Prepare
    const config = parseModelConfig(rawConfig(false));
    const method: LoraMethod = { kind: 'lora', rank: 2, alpha: 4, dropout: 0, targetModules: ['q_proj'] };
    const model = trainedModel(config, method, randomWeights(config, 1));

    // Act
    const error = await failure(exportModel(outDir, model, { sourceDir }));

    // Assess
    expect(error).toBeInstanceOf(EngineError);
    expect(error.message).toBe(
      'exporting a LoRA model as a full model merges its adapter: use exportMergedModel, or saveLoraAdapter for the adapter alone',
    );
  });

  it('names the missing tokenizer file and writes nothing', async () => {
    // Prepare
    const config = parseModelConfig(rawConfig(false));
    const model = trainedModel(config, { kind: 'full' }, randomWeights(config, 1));
    await rm(join(sourceDir, 'tokenizer.json'));

    // Act
    const error = await failure(exportModel(outDir, model, { sourceDir }));

    // Assess
    expect(error).toBeInstanceOf(MalformedModelFileError);
    expect(error.message).toBe(`tokenizer.json: not found in ${sourceDir}; an exported model needs it`);
    await expect(readdir(outDir)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('refuses to write over the source model', async () => {
    // Prepare
    const config = parseModelConfig(rawConfig(false));
    const model = trainedModel(config, { kind: 'full' }, randomWeights(config, 1));

    // Act
    const error = await failure(exportModel(join(sourceDir, '.'), model, { sourceDir }));

    // Assess
    expect(error.message).toBe(`cannot export into ${sourceDir}: it is the source model's directory`);
  });
});

describe('exportMergedModel', () => {
  it("writes base + (alpha / r) B A, whose logits equal the LoRA model's within 1e-5", async () => {
    // Prepare
    const config = parseModelConfig(rawConfig(false));
    const weights = randomWeights(config, 3);
    const method: LoraMethod = {
      kind: 'lora',
      rank: 4,
      alpha: 16,
      dropout: 0.1,
      targetModules: 'all-linear',
    };
    const lora = trainedModel(config, method, weights);

    // Act
    await exportMergedModel(outDir, lora, { sourceDir });

    // Assess
    const loaded = await loadHfWeights(outDir, await readModelConfig(outDir));
    const expected = mergeLora(config, weights, { method, tensors: await readLoraTensors(lora) });
    expect([...loaded.keys()]).toEqual([...expected.keys()]);
    for (const [name, tensor] of expected) {
      expect(bits(loaded.get(name)!.data), name).toEqual(bits(tensor.data));
    }
    const merged = LlamaModel.create(
      new ReferenceBackend(),
      config,
      { kind: 'full' },
      {
        weights: loaded,
        random: Random.fromSeed(1),
      },
    );
    const loraLogits = await logitsOf(lora);
    expect(relativeError(await logitsOf(merged), loraLogits)).toBeLessThan(1e-5);
    expect(await readFile(join(outDir, 'tokenizer.json'), 'utf8')).toBe(TOKENIZER_FILES['tokenizer.json']);
  });

  it('refuses a model without an adapter', async () => {
    // Prepare
    const config = parseModelConfig(rawConfig(false));
    const model = trainedModel(config, { kind: 'full' }, randomWeights(config, 1));

    // Act
    const error = await failure(exportMergedModel(outDir, model, { sourceDir }));

    // Assess
    expect(error.message).toBe(
      'exporting a merged model needs a LoRA model; this one trains by method "full"',
    );
  });
});

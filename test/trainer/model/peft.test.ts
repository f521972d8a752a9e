import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EngineError } from '../../../trainer/src/engine/errors';
import { Random } from '../../../trainer/src/engine/random';
import { ReferenceBackend } from '../../../trainer/src/engine/reference';
import { type ModelConfig, readModelConfig } from '../../../trainer/src/model/config';
import {
  MalformedModelFileError,
  type ModelFileError,
  UnsupportedModelError,
} from '../../../trainer/src/model/errors';
import { LlamaModel } from '../../../trainer/src/model/llama';
import type { LoraMethod } from '../../../trainer/src/model/method';
import {
  formatAdapterConfig,
  mergeLora,
  readLoraAdapter,
  readLoraTensors,
  saveLoraAdapter,
} from '../../../trainer/src/model/peft';
import {
  type HostTensor,
  readSafetensors,
  readSafetensorsHeader,
  writeSafetensors,
} from '../../../trainer/src/model/safetensors';
import { bits, failure, relativeError } from '../../helpers/trainer/assertions';
import { randomWeights, tinyLlamaConfig } from '../../helpers/trainer/weights';

// C 16, I 24, NH 4, NKV 2, HD 4: q_proj (16, 16), k_proj and v_proj (8, 16), down_proj (16, 24).
const CONFIG: ModelConfig = tinyLlamaConfig({ tie_word_embeddings: false });

const LORA: LoraMethod = {
  kind: 'lora',
  rank: 4,
  alpha: 8,
  dropout: 0.05,
  targetModules: ['v_proj', 'q_proj'],
};

const BATCH = {
  batch: 2,
  length: 5,
  tokens: Int32Array.from([3, 17, 9, 30, 1, 4, 4, 22, 8, 15]),
  positions: Int32Array.from([0, 1, 2, 3, 4, 0, 1, 2, 0, 1]),
};

/** A LoRA model whose B is no longer zero, as after some training. */
async function trainedLoraModel(method: LoraMethod, weights: Map<string, HostTensor>) {
  const backend = new ReferenceBackend();
  const model = LlamaModel.create(backend, CONFIG, method, { weights, random: Random.fromSeed(5) });
  const random = Random.fromSeed(6);
  for (const parameter of model.parameters.trainableParameters()) {
    if (!parameter.name.endsWith('lora_B.weight')) continue;
    backend.write(
      parameter.value,
      Float32Array.from({ length: parameter.size }, () => 0.3 * random.normal()),
    );
  }
  return model;
}

async function logitsOf(model: LlamaModel): Promise<Float32Array> {
  model.forward(BATCH);
  return model.logits();
}

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'whetstone-peft-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('saveLoraAdapter', () => {
  it('writes adapter_config.json byte for byte as PEFT does for a causal LM', async () => {
    // Prepare
    const model = await trainedLoraModel(LORA, randomWeights(CONFIG, 1));

    // Act
    await saveLoraAdapter(dir, model, { baseModelNameOrPath: 'org/tiny-llama' });

    // Assess
    expect(await readFile(join(dir, 'adapter_config.json'), 'utf8')).toBe(
      [
        '{',
        '  "alpha_pattern": {},',
        '  "auto_mapping": null,',
        '  "base_model_name_or_path": "org/tiny-llama",',
        '  "bias": "none",',
        '  "fan_in_fan_out": false,',
        '  "inference_mode": true,',
        '  "init_lora_weights": true,',
        '  "layers_pattern": null,',
        '  "layers_to_transform": null,',
        '  "lora_alpha": 8,',
        '  "lora_dropout": 0.05,',
        '  "modules_to_save": null,',
        '  "peft_type": "LORA",',
        '  "r": 4,',
        '  "rank_pattern": {},',
        '  "revision": null,',
        '  "target_modules": [',
        '    "q_proj",',
        '    "v_proj"',
        '  ],',
        '  "task_type": "CAUSAL_LM",',
        '  "use_dora": false,',
        '  "use_rslora": false',
        '}',
      ].join('\n'),
    );
    expect((await readdir(dir)).sort()).toEqual(['adapter_config.json', 'adapter_model.safetensors']);
  });

  it('names the tensors base_model.model.<parameter> and reads their values from the model', async () => {
    // Prepare
    const model = await trainedLoraModel(LORA, randomWeights(CONFIG, 1));

    // Act
    await saveLoraAdapter(dir, model, { baseModelNameOrPath: 'org/tiny-llama' });

    // Assess
    const header = await readSafetensorsHeader(join(dir, 'adapter_model.safetensors'));
    expect(header.metadata).toEqual({ format: 'pt' });
    expect(
      [...header.tensors].map(([name, entry]) => `${name} ${entry.dtype} [${entry.shape.join(', ')}]`),
    ).toEqual([
      'base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight F32 [4, 16]',
      'base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight F32 [16, 4]',
      'base_model.model.model.layers.0.self_attn.v_proj.lora_A.weight F32 [4, 16]',
      'base_model.model.model.layers.0.self_attn.v_proj.lora_B.weight F32 [8, 4]',
      'base_model.model.model.layers.1.self_attn.q_proj.lora_A.weight F32 [4, 16]',
      'base_model.model.model.layers.1.self_attn.q_proj.lora_B.weight F32 [16, 4]',
      'base_model.model.model.layers.1.self_attn.v_proj.lora_A.weight F32 [4, 16]',
      'base_model.model.model.layers.1.self_attn.v_proj.lora_B.weight F32 [8, 4]',
    ]);
    const stored = await readSafetensors(join(dir, 'adapter_model.safetensors'));
    const b = model.parameters.get('model.layers.1.self_attn.v_proj.lora_B.weight');
    expect(stored.get('base_model.model.model.layers.1.self_attn.v_proj.lora_B.weight')!.data).toEqual(
      await model.backend.read(b.value),
    );
  });

  it('writes all-linear as the sorted list of every decoder projection', () => {
    // Prepare
    const method: LoraMethod = { kind: 'lora', rank: 8, alpha: 16, dropout: 0, targetModules: 'all-linear' };

    // Act
    const text = formatAdapterConfig(method, null);

    // Assess
    expect(JSON.parse(text)).toMatchObject({
      base_model_name_or_path: null,
      lora_alpha: 16,
      r: 8,
      target_modules: ['down_proj', 'gate_proj', 'k_proj', 'o_proj', 'q_proj', 'up_proj', 'v_proj'],
    });
    expect(text).toContain('\n  "lora_dropout": 0.0,\n');
  });

  it('writes numbers and names as Python json.dumps does', () => {
    // Prepare
    const method: LoraMethod = {
      kind: 'lora',
      rank: 2,
      alpha: 2.5,
      dropout: 0.00001,
      targetModules: ['o_proj'],
    };

    // Act
    const text = formatAdapterConfig(method, '/modèles/tiny');

    // Assess
    expect(text).toContain('\n  "base_model_name_or_path": "/mod\\u00e8les/tiny",\n');
    expect(text).toContain('\n  "lora_alpha": 2.5,\n');
    expect(text).toContain('\n  "lora_dropout": 1e-05,\n');
    expect(text).toContain('\n  "target_modules": [\n    "o_proj"\n  ],\n');
  });

  it('refuses a model that does not train by LoRA', async () => {
    // Prepare
    const model = LlamaModel.create(
      new ReferenceBackend(),
      CONFIG,
      { kind: 'full' },
      {
        weights: randomWeights(CONFIG, 1),
        random: Random.fromSeed(5),
      },
    );

    // Act
    const error = await failure(saveLoraAdapter(dir, model, { baseModelNameOrPath: null }));

    // Assess
    expect(error).toBeInstanceOf(EngineError);
    expect(error.message).toBe('saving a LoRA adapter needs a LoRA model; this one trains by method "full"');
  });
});

describe('readLoraAdapter', () => {
  it('round-trips into bit-identical parameters and logits', async () => {
    // Prepare
    const weights = randomWeights(CONFIG, 1);
    const original = await trainedLoraModel(LORA, weights);
    await saveLoraAdapter(dir, original, { baseModelNameOrPath: 'org/tiny-llama' });

    // Act
    const adapter = await readLoraAdapter(dir, CONFIG);
    const reloaded = LlamaModel.create(new ReferenceBackend(), CONFIG, adapter.method, {
      weights,
      adapter: adapter.tensors,
      random: Random.fromSeed(77),
    });

    // Assess
    expect(adapter.method).toEqual({
      kind: 'lora',
      rank: 4,
      alpha: 8,
      dropout: 0.05,
      targetModules: ['q_proj', 'v_proj'],
    });
    expect(adapter.baseModelNameOrPath).toBe('org/tiny-llama');
    expect([...adapter.tensors.keys()]).toEqual([
      'model.layers.0.self_attn.q_proj.lora_A.weight',
      'model.layers.0.self_attn.q_proj.lora_B.weight',
      'model.layers.0.self_attn.v_proj.lora_A.weight',
      'model.layers.0.self_attn.v_proj.lora_B.weight',
      'model.layers.1.self_attn.q_proj.lora_A.weight',
      'model.layers.1.self_attn.q_proj.lora_B.weight',
      'model.layers.1.self_attn.v_proj.lora_A.weight',
      'model.layers.1.self_attn.v_proj.lora_B.weight',
    ]);
    for (const parameter of original.parameters.all()) {
      const before = (await original.backend.read(parameter.value)) as Float32Array;
      const after = (await reloaded.backend.read(
        reloaded.parameters.get(parameter.name).value,
      )) as Float32Array;
      expect(bits(after), parameter.name).toEqual(bits(before));
    }
    expect(bits(await logitsOf(reloaded))).toEqual(bits(await logitsOf(original)));
  });

  it('reads an adapter that PEFT wrote', async () => {
    // Prepare
    const fixture = join(__dirname, '../fixtures/parity/llama-lora-gqa');
    const config = await readModelConfig(fixture);

    // Act
    const adapter = await readLoraAdapter(fixture, config);

    // Assess
    expect(adapter.method).toEqual({
      kind: 'lora',
      rank: 4,
      alpha: 8,
      dropout: 0,
      targetModules: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'],
    });
    expect(adapter.tensors.size).toBe(2 * 7 * config.numLayers);
    expect(adapter.baseModelNameOrPath).toBe('test/trainer/fixtures/parity/llama-lora-gqa');
  });

  const configCases: [string, (config: Record<string, unknown>) => void, typeof ModelFileError, string][] = [
    [
      'another PEFT method',
      (config) => {
        config.peft_type = 'IA3';
      },
      UnsupportedModelError,
      'adapter_config.json: "peft_type" "IA3" is not supported; supported: "LORA"',
    ],
    [
      'another task',
      (config) => {
        config.task_type = 'SEQ_CLS';
      },
      UnsupportedModelError,
      'adapter_config.json: "task_type" "SEQ_CLS" is not supported; supported: "CAUSAL_LM"',
    ],
    [
      'no rank',
      (config) => {
        delete config.r;
      },
      MalformedModelFileError,
      'adapter_config.json: "r" is missing',
    ],
    [
      'a zero rank',
      (config) => {
        config.r = 0;
      },
      MalformedModelFileError,
      'adapter_config.json: "r" must be a positive integer, not 0',
    ],
    [
      'alpha as a string',
      (config) => {
        config.lora_alpha = '16';
      },
      MalformedModelFileError,
      'adapter_config.json: "lora_alpha" must be a positive number, not "16"',
    ],
    [
      'DoRA',
      (config) => {
        config.use_dora = true;
      },
      UnsupportedModelError,
      'adapter_config.json: "use_dora" true is not supported',
    ],
    [
      'rsLoRA',
      (config) => {
        config.use_rslora = true;
      },
      UnsupportedModelError,
      'adapter_config.json: "use_rslora" true is not supported',
    ],
    [
      'trained biases',
      (config) => {
        config.bias = 'lora_only';
      },
      UnsupportedModelError,
      'adapter_config.json: "bias" "lora_only" is not supported; supported: "none"',
    ],
    [
      'a module outside the decoder projections',
      (config) => {
        config.target_modules = ['q_proj', 'lm_head'];
      },
      UnsupportedModelError,
      'adapter_config.json: "target_modules" entry "lm_head" is not supported; supported: q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj',
    ],
    [
      'a pattern of modules',
      (config) => {
        config.target_modules = '.*\\.q_proj';
      },
      UnsupportedModelError,
      'adapter_config.json: "target_modules" ".*\\\\.q_proj" is not supported: a pattern; supported: a list of q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj, or "all-linear"',
    ],
    [
      'a subset of layers',
      (config) => {
        config.layers_to_transform = [1];
      },
      UnsupportedModelError,
      'adapter_config.json: "layers_to_transform" [1] is not supported',
    ],
  ];

  it.each(configCases)('refuses %s', async (_, change, type, message) => {
    // Prepare
    await saveLoraAdapter(dir, await trainedLoraModel(LORA, randomWeights(CONFIG, 1)), {
      baseModelNameOrPath: null,
    });
    const config = JSON.parse(await readFile(join(dir, 'adapter_config.json'), 'utf8'));
    change(config);
    await writeFile(join(dir, 'adapter_config.json'), JSON.stringify(config));

    // Act
    const error = await failure(readLoraAdapter(dir, CONFIG));

    // Assess
    expect(error).toBeInstanceOf(type);
    expect(error.message).toBe(message);
  });

  const tensorCases: [string, Partial<LoraMethod>, string][] = [
    [
      'a tensor the config implies but the file lacks',
      { targetModules: ['q_proj', 'k_proj', 'v_proj'] },
      'adapter_model.safetensors: tensor "base_model.model.model.layers.0.self_attn.k_proj.lora_A.weight" is missing',
    ],
    [
      'a tensor of another rank',
      { rank: 8 },
      'adapter_model.safetensors: tensor "base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight" has shape [4, 16], expected [8, 16]',
    ],
    [
      'a tensor the config does not imply',
      { targetModules: ['q_proj'] },
      'adapter_model.safetensors: tensor "base_model.model.model.layers.0.self_attn.v_proj.lora_A.weight" is not a LoRA weight of adapter_config.json\'s target modules in this model',
    ],
  ];

  it.each(tensorCases)('refuses %s', async (_, change, message) => {
    // Prepare
    await saveLoraAdapter(dir, await trainedLoraModel(LORA, randomWeights(CONFIG, 1)), {
      baseModelNameOrPath: null,
    });
    await writeFile(join(dir, 'adapter_config.json'), formatAdapterConfig({ ...LORA, ...change }, null));

    // Act
    const error = await failure(readLoraAdapter(dir, CONFIG));

    // Assess
    expect(error).toBeInstanceOf(MalformedModelFileError);
    expect(error.message).toBe(message);
  });

  it("refuses a tensor outside PEFT's prefix", async () => {
    // Prepare
    await saveLoraAdapter(dir, await trainedLoraModel(LORA, randomWeights(CONFIG, 1)), {
      baseModelNameOrPath: null,
    });
    const file = join(dir, 'adapter_model.safetensors');
    const tensors = await readSafetensors(file);
    tensors.set('model.layers.0.self_attn.q_proj.lora_A.weight', {
      shape: [4, 16],
      data: new Float32Array(64),
    });
    await writeSafetensors(file, tensors);

    // Act
    const error = await failure(readLoraAdapter(dir, CONFIG));

    // Assess
    expect(error.message).toBe(
      'adapter_model.safetensors: tensor "model.layers.0.self_attn.q_proj.lora_A.weight" is not a LoRA weight of adapter_config.json\'s target modules in this model',
    );
  });

  it('names the directory when adapter_config.json is absent', async () => {
    // Act
    const error = await failure(readLoraAdapter(dir, CONFIG));

    // Assess
    expect(error).toBeInstanceOf(MalformedModelFileError);
    expect(error.message).toBe(`adapter_config.json: not found in ${dir}`);
  });
});

describe('mergeLora', () => {
  it('adds (alpha / r) B A to each adapted weight and passes every other tensor through', async () => {
    // Prepare
    const weights = randomWeights(CONFIG, 1);
    const model = await trainedLoraModel(LORA, weights);
    const tensors = await readLoraTensors(model);

    // Act
    const merged = mergeLora(CONFIG, weights, { method: LORA, tensors });

    // Assess
    const scale = 8 / 4;
    for (const [layer, module, outFeatures] of [
      [0, 'q_proj', 16],
      [0, 'v_proj', 8],
      [1, 'q_proj', 16],
      [1, 'v_proj', 8],
    ] as const) {
      const path = `model.layers.${layer}.self_attn.${module}`;
      const w = weights.get(`${path}.weight`)!.data;
      const a = tensors.get(`${path}.lora_A.weight`)!.data;
      const b = tensors.get(`${path}.lora_B.weight`)!.data;
      const expected = new Float32Array(outFeatures * 16);
      for (let o = 0; o < outFeatures; o++) {
        for (let i = 0; i < 16; i++) {
          let product = 0;
          for (let r = 0; r < 4; r++) product += b[o * 4 + r]! * a[r * 16 + i]!;
          expected[o * 16 + i] = w[o * 16 + i]! + scale * product;
        }
      }
      expect(merged.get(`${path}.weight`)!.shape).toEqual([outFeatures, 16]);
      expect(merged.get(`${path}.weight`)!.data, path).toEqual(expected);
      expect(relativeError(merged.get(`${path}.weight`)!.data, w)).toBeGreaterThan(0.1);
    }
    expect([...merged.keys()]).toEqual([...weights.keys()]);
    for (const name of [
      'model.layers.0.self_attn.k_proj.weight',
      'model.layers.1.mlp.down_proj.weight',
      'lm_head.weight',
    ]) {
      expect(merged.get(name)).toBe(weights.get(name));
    }
  });

  it("gives a model whose logits equal the LoRA model's within 1e-5", async () => {
    // Prepare
    const weights = randomWeights(CONFIG, 1);
    const method: LoraMethod = { ...LORA, targetModules: 'all-linear' };
    const lora = await trainedLoraModel(method, weights);
    const merged = mergeLora(CONFIG, weights, { method, tensors: await readLoraTensors(lora) });

    // Act
    const plain = LlamaModel.create(
      new ReferenceBackend(),
      CONFIG,
      { kind: 'full' },
      {
        weights: merged,
        random: Random.fromSeed(1),
      },
    );

    // Assess
    const expected = await logitsOf(lora);
    const base = LlamaModel.create(
      new ReferenceBackend(),
      CONFIG,
      { kind: 'full' },
      {
        weights,
        random: Random.fromSeed(1),
      },
    );
    expect(relativeError(await logitsOf(plain), expected)).toBeLessThan(1e-5);
    expect(relativeError(await logitsOf(base), expected)).toBeGreaterThan(1e-2);
  });

  it('names a tensor the adapter lacks', () => {
    // Prepare
    const weights = randomWeights(CONFIG, 1);

    // Act
    const act = () => mergeLora(CONFIG, weights, { method: LORA, tensors: new Map() });

    // Assess
    expect(act).toThrowError(
      new EngineError('the adapter has no tensor "model.layers.0.self_attn.q_proj.lora_A.weight"'),
    );
  });
});

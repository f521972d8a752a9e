import { mkdir, mkdtemp, readdir, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseModelConfig } from '../../../trainer/src/model/config';
import {
  MalformedModelFileError,
  type ModelFileError,
  UnsupportedModelError,
} from '../../../trainer/src/model/errors';
import { expectedTensorShapes, loadHfWeights, writeHfModel } from '../../../trainer/src/model/hf-weights';
import {
  type HostTensor,
  readSafetensors,
  readSafetensorsHeader,
  writeSafetensors,
} from '../../../trainer/src/model/safetensors';
import { bits, failure } from '../../helpers/trainer/assertions';
import { createTinyModel, writeRawSafetensors } from '../../helpers/trainer/tiny-model';

let root: string;
let counter = 0;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'whetstone-hf-weights-'));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

function freshDir(): string {
  counter += 1;
  return join(root, `case-${counter}`);
}

function expectSameTensors(
  actual: ReadonlyMap<string, HostTensor>,
  expected: ReadonlyMap<string, HostTensor>,
): void {
  expect([...actual.keys()]).toEqual([...expected.keys()]);
  for (const [name, tensor] of expected) {
    expect(actual.get(name)?.shape).toEqual(tensor.shape);
    expect(bits(actual.get(name)?.data as Float32Array)).toEqual(bits(tensor.data));
  }
}

/** One layer, vocabulary 16, hidden 8, two heads of 4 sharing one key/value head, intermediate 16. */
const SMALL = {
  vocabSize: 16,
  hiddenSize: 8,
  intermediateSize: 16,
  numLayers: 1,
  numHeads: 2,
  numKvHeads: 1,
} as const;

describe('expectedTensorShapes', () => {
  it('lists a Llama with attention bias and tied embeddings in forward order, without lm_head', () => {
    // Prepare
    const config = parseModelConfig({
      model_type: 'llama',
      vocab_size: 10,
      hidden_size: 8,
      intermediate_size: 12,
      num_hidden_layers: 1,
      num_attention_heads: 4,
      num_key_value_heads: 2,
      attention_bias: true,
      tie_word_embeddings: true,
    });

    // Act
    const shapes = expectedTensorShapes(config);

    // Assess
    expect([...shapes]).toEqual([
      ['model.embed_tokens.weight', [10, 8]],
      ['model.layers.0.input_layernorm.weight', [8]],
      ['model.layers.0.self_attn.q_proj.weight', [8, 8]],
      ['model.layers.0.self_attn.q_proj.bias', [8]],
      ['model.layers.0.self_attn.k_proj.weight', [4, 8]],
      ['model.layers.0.self_attn.k_proj.bias', [4]],
      ['model.layers.0.self_attn.v_proj.weight', [4, 8]],
      ['model.layers.0.self_attn.v_proj.bias', [4]],
      ['model.layers.0.self_attn.o_proj.weight', [8, 8]],
      ['model.layers.0.self_attn.o_proj.bias', [8]],
      ['model.layers.0.post_attention_layernorm.weight', [8]],
      ['model.layers.0.mlp.gate_proj.weight', [12, 8]],
      ['model.layers.0.mlp.up_proj.weight', [12, 8]],
      ['model.layers.0.mlp.down_proj.weight', [8, 12]],
      ['model.norm.weight', [8]],
    ]);
  });

  it('gives Qwen2 q/k/v bias without o_proj bias, head_dim apart from hidden / heads, and an untied lm_head', () => {
    // Prepare
    const config = parseModelConfig({
      model_type: 'qwen2',
      vocab_size: 10,
      hidden_size: 8,
      intermediate_size: 12,
      num_hidden_layers: 2,
      num_attention_heads: 4,
      num_key_value_heads: 1,
      head_dim: 6,
    });

    // Act
    const shapes = expectedTensorShapes(config);

    // Assess
    // Per layer: two norms, q/k/v weight and bias, o, gate, up, down.
    expect(shapes.size).toBe(1 + 2 * 12 + 2);
    expect(shapes.get('model.layers.1.self_attn.q_proj.weight')).toEqual([24, 8]);
    expect(shapes.get('model.layers.1.self_attn.k_proj.bias')).toEqual([6]);
    expect(shapes.get('model.layers.1.self_attn.o_proj.weight')).toEqual([8, 24]);
    expect(shapes.has('model.layers.1.self_attn.o_proj.bias')).toBe(false);
    expect(shapes.get('lm_head.weight')).toEqual([10, 8]);
  });
});

describe('loadHfWeights', () => {
  it.each([
    ['llama', {}],
    ['llama with attention bias and tied embeddings', { qkvBias: true, tied: true }],
    ['mistral', { architecture: 'mistral' }],
    ['qwen2', { architecture: 'qwen2' }],
  ] as const)('loads a tiny %s model exactly as written', async (_case, options) => {
    // Prepare
    const model = await createTinyModel(freshDir(), { ...options, seed: 7 });

    // Act
    const loaded = await loadHfWeights(model.dir, model.config);

    // Assess
    expectSameTensors(loaded, model.tensors);
    expect(loaded.size).toBe(expectedTensorShapes(model.config).size);
  });

  it('gives the same weights for the same seed and different ones for another', async () => {
    // Act
    const first = await createTinyModel(freshDir(), { seed: 3 });
    const again = await createTinyModel(freshDir(), { seed: 3 });
    const other = await createTinyModel(freshDir(), { seed: 4 });

    // Assess
    expect(await readFile(join(again.dir, 'model.safetensors'))).toEqual(
      await readFile(join(first.dir, 'model.safetensors')),
    );
    expect(other.tensors.get('model.embed_tokens.weight')?.data).not.toEqual(
      first.tensors.get('model.embed_tokens.weight')?.data,
    );
  });

  it('upcasts a BF16 checkpoint', async () => {
    // Prepare
    const model = await createTinyModel(freshDir(), SMALL);
    await writeSafetensors(join(model.dir, 'model.safetensors'), model.tensors, { dtype: 'BF16' });

    // Act
    const loaded = await loadHfWeights(model.dir, model.config);

    // Assess
    for (const [name, tensor] of model.tensors) {
      const patterns = bits(loaded.get(name)?.data as Float32Array);
      expect(patterns.every((value) => (value & 0xffff) === 0)).toBe(true);
      const values = loaded.get(name)?.data as Float32Array;
      for (let i = 0; i < values.length; i++) {
        expect(Math.abs((values[i] as number) - (tensor.data[i] as number))).toBeLessThanOrEqual(
          Math.abs(tensor.data[i] as number) * 2 ** -8,
        );
      }
    }
  });

  it('accepts and ignores a tied checkpoint that also stores lm_head, and rotary inv_freq buffers', async () => {
    // Prepare
    const model = await createTinyModel(freshDir(), { ...SMALL, tied: true });
    const extended = new Map(model.tensors);
    extended.set('lm_head.weight', model.tensors.get('model.embed_tokens.weight') as HostTensor);
    extended.set('model.layers.0.self_attn.rotary_emb.inv_freq', {
      shape: [2],
      data: Float32Array.of(1, 0.01),
    });
    await writeSafetensors(join(model.dir, 'model.safetensors'), extended);

    // Act
    const loaded = await loadHfWeights(model.dir, model.config);

    // Assess
    expectSameTensors(loaded, model.tensors);
  });

  it('names the file and the tensor that is missing', async () => {
    // Prepare
    const model = await createTinyModel(freshDir(), SMALL);
    const partial = new Map(model.tensors);
    partial.delete('model.norm.weight');
    await writeSafetensors(join(model.dir, 'model.safetensors'), partial);

    // Act
    const error = await failure<ModelFileError>(loadHfWeights(model.dir, model.config));

    // Assess
    expect(error).toBeInstanceOf(MalformedModelFileError);
    expect(error.message).toBe('model.safetensors: tensor "model.norm.weight" is missing');
    expect(error.field).toBe('model.norm.weight');
    expect(error.file).toBe(join(model.dir, 'model.safetensors'));
  });

  it('names the file, the tensor and both shapes when a shape does not match', async () => {
    // Prepare
    const model = await createTinyModel(freshDir(), { hiddenSize: 32, numHeads: 4, numKvHeads: 4 });
    const misshapen = new Map(model.tensors);
    misshapen.set('model.layers.0.self_attn.q_proj.weight', { shape: [32, 16], data: new Float32Array(512) });
    await writeSafetensors(join(model.dir, 'model.safetensors'), misshapen);

    // Act
    const error = await failure(loadHfWeights(model.dir, model.config));

    // Assess
    expect(error).toBeInstanceOf(MalformedModelFileError);
    expect(error.message).toBe(
      'model.safetensors: tensor "model.layers.0.self_attn.q_proj.weight" has shape [32, 16], expected [32, 32]',
    );
  });

  it('names the tensor whose dtype cannot be read', async () => {
    // Prepare
    const model = await createTinyModel(freshDir(), SMALL);
    // I32 has F32's size, so only the dtype is wrong.
    const header: Record<string, unknown> = {};
    const data: Buffer[] = [];
    let offset = 0;
    for (const [name, tensor] of model.tensors) {
      const bytes = Buffer.from(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength);
      const dtype = name === 'model.norm.weight' ? 'I32' : 'F32';
      header[name] = { dtype, shape: tensor.shape, data_offsets: [offset, offset + bytes.length] };
      data.push(bytes);
      offset += bytes.length;
    }
    await writeRawSafetensors(join(model.dir, 'model.safetensors'), header, Buffer.concat(data));

    // Act
    const error = await failure(loadHfWeights(model.dir, model.config));

    // Assess
    expect(error).toBeInstanceOf(MalformedModelFileError);
    expect(error.message).toBe(
      'model.safetensors: tensor "model.norm.weight" has dtype I32; supported: F32, F16, BF16',
    );
  });

  it('refuses tensors the config does not describe, naming them', async () => {
    // Prepare
    const model = await createTinyModel(freshDir(), SMALL);
    const extended = new Map(model.tensors);
    extended.set('model.layers.0.mlp.gate_proj.bias', { shape: [16], data: new Float32Array(16) });
    extended.set('model.layers.1.input_layernorm.weight', { shape: [8], data: new Float32Array(8) });
    await writeSafetensors(join(model.dir, 'model.safetensors'), extended);

    // Act
    const error = await failure(loadHfWeights(model.dir, model.config));

    // Assess
    expect(error).toBeInstanceOf(MalformedModelFileError);
    expect(error.message).toBe(
      'model.safetensors: holds tensors that config.json does not describe: "model.layers.0.mlp.gate_proj.bias", "model.layers.1.input_layernorm.weight"',
    );
  });

  it('says there are no weights, naming the directory', async () => {
    // Prepare
    const model = await createTinyModel(freshDir(), SMALL);
    await unlink(join(model.dir, 'model.safetensors'));

    // Act
    const error = await failure(loadHfWeights(model.dir, model.config));

    // Assess
    expect(error).toBeInstanceOf(MalformedModelFileError);
    expect(error.message).toBe(
      `model.safetensors: not found in ${model.dir}, nor is model.safetensors.index.json`,
    );
  });

  it('refuses PyTorch pickle checkpoints', async () => {
    // Prepare
    const model = await createTinyModel(freshDir(), SMALL);
    await unlink(join(model.dir, 'model.safetensors'));
    await writeFile(join(model.dir, 'pytorch_model.bin'), 'PK');

    // Act
    const error = await failure(loadHfWeights(model.dir, model.config));

    // Assess
    expect(error).toBeInstanceOf(UnsupportedModelError);
    expect(error.message).toBe(
      'pytorch_model.bin: PyTorch pickle checkpoints are not supported; save the model as safetensors (model.safetensors)',
    );
  });
});

describe('sharded checkpoints', () => {
  // SMALL's fp32 tensors in forward order, in bytes: embed 512, input norm 32, q 256, k 128, v 128,
  // o 256, post norm 32, gate 512, up 512, down 512, norm 32, lm_head 512. At most 1024 a shard:
  const SHARDS = [
    [
      'model.embed_tokens.weight',
      'model.layers.0.input_layernorm.weight',
      'model.layers.0.self_attn.q_proj.weight',
      'model.layers.0.self_attn.k_proj.weight',
    ],
    [
      'model.layers.0.self_attn.v_proj.weight',
      'model.layers.0.self_attn.o_proj.weight',
      'model.layers.0.post_attention_layernorm.weight',
      'model.layers.0.mlp.gate_proj.weight',
    ],
    ['model.layers.0.mlp.up_proj.weight', 'model.layers.0.mlp.down_proj.weight'],
    ['model.norm.weight', 'lm_head.weight'],
  ];

  async function shardedModel(): Promise<{
    dir: string;
    source: Awaited<ReturnType<typeof createTinyModel>>;
  }> {
    const source = await createTinyModel(freshDir(), SMALL);
    const dir = freshDir();
    await writeHfModel(dir, source.config, source.tensors, { maxShardBytes: 1024 });
    return { dir, source };
  }

  it('writes shards greedily in forward order with an index as transformers does', async () => {
    // Act
    const { dir } = await shardedModel();

    // Assess
    expect((await readdir(dir)).sort()).toEqual([
      'config.json',
      'model-00001-of-00004.safetensors',
      'model-00002-of-00004.safetensors',
      'model-00003-of-00004.safetensors',
      'model-00004-of-00004.safetensors',
      'model.safetensors.index.json',
    ]);
    const index = await readFile(join(dir, 'model.safetensors.index.json'), 'utf8');
    const weightMap = Object.fromEntries(
      SHARDS.flatMap((names, shard) =>
        names.map((name) => [name, `model-0000${shard + 1}-of-00004.safetensors`]),
      ).sort(([left], [right]) => ((left as string) < (right as string) ? -1 : 1)),
    );
    expect(index).toBe(
      `${JSON.stringify({ metadata: { total_size: 3424 }, weight_map: weightMap }, null, 2)}\n`,
    );
    expect(Object.keys(JSON.parse(index).weight_map)[0]).toBe('lm_head.weight');
    for (const [shard, names] of SHARDS.entries()) {
      const header = await readSafetensorsHeader(join(dir, `model-0000${shard + 1}-of-00004.safetensors`));
      expect([...header.tensors.keys()].sort()).toEqual([...names].sort());
      expect(header.metadata).toEqual({ format: 'pt' });
    }
  });

  it('loads a sharded checkpoint through its index exactly', async () => {
    // Prepare
    const { dir, source } = await shardedModel();

    // Act
    const loaded = await loadHfWeights(dir, source.config);

    // Assess
    expectSameTensors(loaded, source.tensors);
  });

  it('names a shard file the index lists that is not there', async () => {
    // Prepare
    const { dir, source } = await shardedModel();
    await unlink(join(dir, 'model-00002-of-00004.safetensors'));

    // Act
    const error = await failure(loadHfWeights(dir, source.config));

    // Assess
    expect(error).toBeInstanceOf(MalformedModelFileError);
    expect(error.message).toBe(
      `model-00002-of-00004.safetensors: not found in ${dir}; model.safetensors.index.json lists it`,
    );
  });

  it('names a tensor missing from the weight map', async () => {
    // Prepare
    const { dir, source } = await shardedModel();
    const indexFile = join(dir, 'model.safetensors.index.json');
    const index = JSON.parse(await readFile(indexFile, 'utf8'));
    delete index.weight_map['model.norm.weight'];
    await writeFile(indexFile, JSON.stringify(index));

    // Act
    const error = await failure(loadHfWeights(dir, source.config));

    // Assess
    expect(error.message).toBe(
      'model.safetensors.index.json: tensor "model.norm.weight" is missing from "weight_map"',
    );
  });

  it('names the shard that lacks a tensor the index places in it', async () => {
    // Prepare
    const { dir, source } = await shardedModel();
    const indexFile = join(dir, 'model.safetensors.index.json');
    const index = JSON.parse(await readFile(indexFile, 'utf8'));
    index.weight_map['model.norm.weight'] = 'model-00001-of-00004.safetensors';
    await writeFile(indexFile, JSON.stringify(index));

    // Act
    const error = await failure(loadHfWeights(dir, source.config));

    // Assess
    expect(error.message).toBe(
      'model-00001-of-00004.safetensors: tensor "model.norm.weight" is missing; model.safetensors.index.json places it here',
    );
  });

  it('refuses shard names that reach outside the model directory', async () => {
    // Prepare
    const { dir, source } = await shardedModel();
    const indexFile = join(dir, 'model.safetensors.index.json');
    const index = JSON.parse(await readFile(indexFile, 'utf8'));
    index.weight_map['model.norm.weight'] = '../model-00004-of-00004.safetensors';
    await writeFile(indexFile, JSON.stringify(index));

    // Act
    const error = await failure(loadHfWeights(dir, source.config));

    // Assess
    expect(error.message).toBe(
      'model.safetensors.index.json: "weight_map" entry for "model.norm.weight" must be a file name in the model directory, not "../model-00004-of-00004.safetensors"',
    );
  });

  it('replaces a sharded save with a single file, removing the index and the shards', async () => {
    // Prepare
    const { dir, source } = await shardedModel();

    // Act
    await writeHfModel(dir, source.config, source.tensors);

    // Assess
    expect((await readdir(dir)).sort()).toEqual(['config.json', 'model.safetensors']);
    expectSameTensors(await loadHfWeights(dir, source.config), source.tensors);
  });
});

describe('writeHfModel', () => {
  it('writes config.json as read with torch_dtype float32, and the weights in one fp32 file', async () => {
    // Prepare
    const source = await createTinyModel(freshDir(), {
      ...SMALL,
      architecture: 'qwen2',
      configOverrides: { torch_dtype: 'bfloat16', max_window_layers: 1 },
    });
    const dir = freshDir();

    // Act
    await writeHfModel(dir, source.config, source.tensors);

    // Assess
    expect((await readdir(dir)).sort()).toEqual(['config.json', 'model.safetensors']);
    const written = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8'));
    expect(written).toEqual({ ...source.config.raw, torch_dtype: 'float32' });
    expect(Object.keys(written)).toEqual(Object.keys(source.config.raw));
    const header = await readSafetensorsHeader(join(dir, 'model.safetensors'));
    expect(header.metadata).toEqual({ format: 'pt' });
    expect(new Set([...header.tensors.values()].map((entry) => entry.dtype))).toEqual(new Set(['F32']));
    expectSameTensors(await loadHfWeights(dir, source.config), source.tensors);
  });

  it("leaves a tied model's lm_head out of the file", async () => {
    // Prepare
    const source = await createTinyModel(freshDir(), { ...SMALL, tied: true });
    const withHead = new Map(source.tensors);
    withHead.set('lm_head.weight', source.tensors.get('model.embed_tokens.weight') as HostTensor);
    const dir = freshDir();

    // Act
    await writeHfModel(dir, source.config, withHead);

    // Assess
    const read = await readSafetensors(join(dir, 'model.safetensors'));
    expect(read.has('lm_head.weight')).toBe(false);
    expect(read.size).toBe(source.tensors.size);
  });

  it('refuses a missing tensor, a wrong shape and a tensor the model does not have, writing nothing', async () => {
    // Prepare
    const source = await createTinyModel(freshDir(), SMALL);
    const missing = new Map(source.tensors);
    missing.delete('model.layers.0.mlp.up_proj.weight');
    const misshapen = new Map(source.tensors);
    misshapen.set('model.norm.weight', { shape: [4], data: new Float32Array(4) });
    const extra = new Map(source.tensors);
    extra.set('model.layers.0.mlp.up_proj.bias', { shape: [16], data: new Float32Array(16) });
    const dir = freshDir();

    // Act
    const errors = await Promise.all(
      [missing, misshapen, extra].map((tensors) => failure(writeHfModel(dir, source.config, tensors))),
    );

    // Assess
    expect(errors.map((error) => error.message)).toEqual([
      'model.safetensors: tensor "model.layers.0.mlp.up_proj.weight" is missing',
      'model.safetensors: tensor "model.norm.weight" has shape [4], expected [8]',
      'model.safetensors: tensor "model.layers.0.mlp.up_proj.bias" is not part of this model',
    ]);
    await expect(readdir(dir)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('creates the directory it writes into', async () => {
    // Prepare
    const source = await createTinyModel(freshDir(), SMALL);
    const parent = freshDir();
    await mkdir(parent);

    // Act
    await writeHfModel(join(parent, 'nested', 'model'), source.config, source.tensors);

    // Assess
    expect((await readdir(join(parent, 'nested', 'model'))).sort()).toEqual([
      'config.json',
      'model.safetensors',
    ]);
  });
});

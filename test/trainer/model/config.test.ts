import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseModelConfig, readModelConfig } from '../../../trainer/src/model/config';
import {
  MalformedModelFileError,
  ModelFileError,
  UnsupportedModelError,
} from '../../../trainer/src/model/errors';

// As published with Llama 3.2 1B Instruct.
const LLAMA_3_2_1B = {
  architectures: ['LlamaForCausalLM'],
  attention_bias: false,
  attention_dropout: 0.0,
  bos_token_id: 128000,
  eos_token_id: [128001, 128008, 128009],
  head_dim: 64,
  hidden_act: 'silu',
  hidden_size: 2048,
  initializer_range: 0.02,
  intermediate_size: 8192,
  max_position_embeddings: 131072,
  mlp_bias: false,
  model_type: 'llama',
  num_attention_heads: 32,
  num_hidden_layers: 16,
  num_key_value_heads: 8,
  pretraining_tp: 1,
  rms_norm_eps: 1e-5,
  rope_scaling: {
    factor: 32.0,
    high_freq_factor: 4.0,
    low_freq_factor: 1.0,
    original_max_position_embeddings: 8192,
    rope_type: 'llama3',
  },
  rope_theta: 500000.0,
  tie_word_embeddings: true,
  torch_dtype: 'bfloat16',
  transformers_version: '4.45.0.dev0',
  use_cache: true,
  vocab_size: 128256,
};

// As published with Mistral 7B v0.1, the one release with a sliding window.
const MISTRAL_7B_V01 = {
  architectures: ['MistralForCausalLM'],
  bos_token_id: 1,
  eos_token_id: 2,
  hidden_act: 'silu',
  hidden_size: 4096,
  initializer_range: 0.02,
  intermediate_size: 14336,
  max_position_embeddings: 32768,
  model_type: 'mistral',
  num_attention_heads: 32,
  num_hidden_layers: 32,
  num_key_value_heads: 8,
  rms_norm_eps: 1e-5,
  rope_theta: 10000.0,
  sliding_window: 4096,
  tie_word_embeddings: false,
  torch_dtype: 'bfloat16',
  transformers_version: '4.34.0.dev0',
  use_cache: true,
  vocab_size: 32000,
};

// As published with Qwen2.5 0.5B Instruct.
const QWEN2_5_0_5B = {
  architectures: ['Qwen2ForCausalLM'],
  attention_dropout: 0.0,
  bos_token_id: 151643,
  eos_token_id: 151645,
  hidden_act: 'silu',
  hidden_size: 896,
  initializer_range: 0.02,
  intermediate_size: 4864,
  max_position_embeddings: 32768,
  max_window_layers: 21,
  model_type: 'qwen2',
  num_attention_heads: 14,
  num_hidden_layers: 24,
  num_key_value_heads: 2,
  rms_norm_eps: 1e-6,
  rope_theta: 1000000.0,
  sliding_window: 32768,
  tie_word_embeddings: true,
  torch_dtype: 'bfloat16',
  transformers_version: '4.43.1',
  use_cache: true,
  use_sliding_window: false,
  vocab_size: 151936,
};

const MINIMAL_LLAMA = {
  model_type: 'llama',
  vocab_size: 64,
  hidden_size: 16,
  intermediate_size: 32,
  num_hidden_layers: 2,
  num_attention_heads: 4,
};

function thrown(action: () => unknown): ModelFileError {
  try {
    action();
  } catch (error) {
    if (error instanceof ModelFileError) return error;
    throw error;
  }
  throw new Error('expected a ModelFileError, and nothing was thrown');
}

describe('parseModelConfig', () => {
  it('reads a Llama 3.2 config with llama3 rope scaling, tied embeddings and several end tokens', () => {
    // Act
    const config = parseModelConfig(LLAMA_3_2_1B);

    // Assess
    expect(config).toEqual({
      architecture: 'llama',
      vocabSize: 128256,
      hiddenSize: 2048,
      intermediateSize: 8192,
      numLayers: 16,
      numHeads: 32,
      numKvHeads: 8,
      headDim: 64,
      rmsNormEps: 1e-5,
      ropeTheta: 500000,
      ropeScaling: {
        type: 'llama3',
        factor: 32,
        lowFreqFactor: 1,
        highFreqFactor: 4,
        originalMaxPositionEmbeddings: 8192,
      },
      maxPositionEmbeddings: 131072,
      tieWordEmbeddings: true,
      qkvBias: false,
      oBias: false,
      slidingWindow: null,
      bosTokenId: 128000,
      eosTokenIds: [128001, 128008, 128009],
      raw: LLAMA_3_2_1B,
    });
  });

  it('reads a Mistral 7B config and records its sliding window', () => {
    // Act
    const config = parseModelConfig(MISTRAL_7B_V01);

    // Assess
    expect(config).toEqual({
      architecture: 'mistral',
      vocabSize: 32000,
      hiddenSize: 4096,
      intermediateSize: 14336,
      numLayers: 32,
      numHeads: 32,
      numKvHeads: 8,
      headDim: 128,
      rmsNormEps: 1e-5,
      ropeTheta: 10000,
      ropeScaling: null,
      maxPositionEmbeddings: 32768,
      tieWordEmbeddings: false,
      qkvBias: false,
      oBias: false,
      slidingWindow: 4096,
      bosTokenId: 1,
      eosTokenIds: [2],
      raw: MISTRAL_7B_V01,
    });
  });

  it('records no sliding window when Mistral sets none or one no shorter than the context', () => {
    // Act
    const none = parseModelConfig({ ...MISTRAL_7B_V01, sliding_window: null });
    const wide = parseModelConfig({ ...MISTRAL_7B_V01, sliding_window: 32768 });

    // Assess
    expect(none.slidingWindow).toBeNull();
    expect(wide.slidingWindow).toBeNull();
  });

  it('reads a Qwen2.5 config: q/k/v bias always, no o_proj bias, window unused', () => {
    // Act
    const config = parseModelConfig(QWEN2_5_0_5B);

    // Assess
    expect(config).toEqual({
      architecture: 'qwen2',
      vocabSize: 151936,
      hiddenSize: 896,
      intermediateSize: 4864,
      numLayers: 24,
      numHeads: 14,
      numKvHeads: 2,
      headDim: 64,
      rmsNormEps: 1e-6,
      ropeTheta: 1000000,
      ropeScaling: null,
      maxPositionEmbeddings: 32768,
      tieWordEmbeddings: true,
      qkvBias: true,
      oBias: false,
      slidingWindow: null,
      bosTokenId: 151643,
      eosTokenIds: [151645],
      raw: QWEN2_5_0_5B,
    });
  });

  it("fills in transformers' Llama defaults for what a config omits", () => {
    // Act
    const config = parseModelConfig(MINIMAL_LLAMA);

    // Assess
    expect(config).toMatchObject({
      numKvHeads: 4,
      headDim: 4,
      rmsNormEps: 1e-6,
      ropeTheta: 10000,
      ropeScaling: null,
      maxPositionEmbeddings: 2048,
      tieWordEmbeddings: false,
      qkvBias: false,
      oBias: false,
      slidingWindow: null,
      bosTokenId: 1,
      eosTokenIds: [2],
    });
  });

  it("fills in transformers' Mistral and Qwen2 defaults, Mistral's 4096-position window included", () => {
    // Prepare
    const sizes = { ...MINIMAL_LLAMA, model_type: undefined };

    // Act
    const mistral = parseModelConfig({ ...sizes, model_type: 'mistral' });
    const qwen2 = parseModelConfig({ ...sizes, model_type: 'qwen2' });

    // Assess
    expect(mistral).toMatchObject({
      maxPositionEmbeddings: 131072,
      slidingWindow: 4096,
      bosTokenId: 1,
      eosTokenIds: [2],
    });
    expect(qwen2).toMatchObject({
      maxPositionEmbeddings: 32768,
      qkvBias: true,
      bosTokenId: null,
      eosTokenIds: [],
    });
  });

  it('puts a bias on q, k, v and o projections when a Llama config sets attention_bias', () => {
    // Act
    const config = parseModelConfig({ ...MINIMAL_LLAMA, attention_bias: true });

    // Assess
    expect(config.qkvBias).toBe(true);
    expect(config.oBias).toBe(true);
  });

  it('takes head_dim as given even when it is not hidden / heads', () => {
    // Act
    const config = parseModelConfig({ ...MINIMAL_LLAMA, hidden_size: 20, head_dim: 6 });

    // Assess
    expect(config.headDim).toBe(6);
  });

  it('reads the architecture from "architectures" when "model_type" is absent', () => {
    // Act
    const config = parseModelConfig({
      ...MINIMAL_LLAMA,
      model_type: undefined,
      architectures: ['Qwen2ForCausalLM'],
    });

    // Assess
    expect(config.architecture).toBe('qwen2');
  });

  it('reads linear rope scaling, the older "type" key, and "default" as no scaling', () => {
    // Act
    const linear = parseModelConfig({ ...MINIMAL_LLAMA, rope_scaling: { type: 'linear', factor: 2 } });
    const plain = parseModelConfig({ ...MINIMAL_LLAMA, rope_scaling: { rope_type: 'default' } });

    // Assess
    expect(linear.ropeScaling).toEqual({ type: 'linear', factor: 2 });
    expect(plain.ropeScaling).toBeNull();
  });

  it('reads rope settings from transformers 5 "rope_parameters"', () => {
    // Prepare
    const { rope_scaling: _scaling, rope_theta: _theta, ...rest } = LLAMA_3_2_1B;
    const json = { ...rest, rope_parameters: { ...LLAMA_3_2_1B.rope_scaling, rope_theta: 500000.0 } };

    // Act
    const config = parseModelConfig(json);

    // Assess
    expect(config.ropeTheta).toBe(500000);
    expect(config.ropeScaling).toEqual(parseModelConfig(LLAMA_3_2_1B).ropeScaling);
  });

  it('keeps a copy of the object as read, which later changes to the input do not reach', () => {
    // Prepare
    const json = structuredClone(QWEN2_5_0_5B);

    // Act
    const config = parseModelConfig(json);
    json.hidden_size = 1;

    // Assess
    expect(config.raw).toEqual(QWEN2_5_0_5B);
  });

  const unsupported: [string, unknown, string, string][] = [
    [
      'another architecture',
      { ...MINIMAL_LLAMA, model_type: 'gpt2' },
      'model_type',
      'config.json: "model_type" "gpt2" is not supported; supported: llama, mistral, qwen2',
    ],
    [
      'a head other than the causal LM',
      { ...MINIMAL_LLAMA, architectures: ['LlamaForSequenceClassification'] },
      'architectures',
      'config.json: "architectures" ["LlamaForSequenceClassification"] is not supported; supported: LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM',
    ],
    [
      'an activation other than SiLU',
      { ...MINIMAL_LLAMA, hidden_act: 'gelu' },
      'hidden_act',
      'config.json: "hidden_act" "gelu" is not supported; supported: silu',
    ],
    [
      'MLP bias',
      { ...MINIMAL_LLAMA, mlp_bias: true },
      'mlp_bias',
      'config.json: "mlp_bias" true is not supported; MLP projections here have no bias',
    ],
    [
      'YaRN rope scaling',
      { ...MINIMAL_LLAMA, rope_scaling: { rope_type: 'yarn', factor: 4 } },
      'rope_scaling.rope_type',
      'config.json: "rope_scaling.rope_type" "yarn" is not supported; supported: default, linear, llama3',
    ],
    [
      'dynamic rope scaling under the older key',
      { ...MINIMAL_LLAMA, rope_scaling: { type: 'dynamic', factor: 2 } },
      'rope_scaling.type',
      'config.json: "rope_scaling.type" "dynamic" is not supported; supported: default, linear, llama3',
    ],
    [
      "Qwen2's sliding window in use",
      { ...QWEN2_5_0_5B, use_sliding_window: true },
      'use_sliding_window',
      'config.json: "use_sliding_window" true is not supported; attention here is full causal',
    ],
    [
      'quantized weights',
      { ...MINIMAL_LLAMA, quantization_config: { quant_method: 'gptq', bits: 4 } },
      'quantization_config',
      'config.json: "quantization_config" is not supported: the weights are quantized (gptq); train from unquantized weights',
    ],
  ];

  it.each(unsupported)('refuses %s naming the field', (_case, json, field, message) => {
    // Act
    const error = thrown(() => parseModelConfig(json));

    // Assess
    expect(error).toBeInstanceOf(UnsupportedModelError);
    expect(error.name).toBe('UnsupportedModelError');
    expect(error.message).toBe(message);
    expect(error.field).toBe(field);
    expect(error.file).toBe('config.json');
  });

  const malformed: [string, unknown, string | undefined, string][] = [
    ['a JSON array', [1], undefined, 'config.json: must hold a JSON object, not [1]'],
    [
      'neither model_type nor architectures',
      { ...MINIMAL_LLAMA, model_type: undefined },
      'model_type',
      'config.json: "model_type" is missing',
    ],
    [
      'architectures that contradict model_type',
      { ...MINIMAL_LLAMA, architectures: ['MistralForCausalLM'] },
      'architectures',
      'config.json: "architectures" ["MistralForCausalLM"] does not match "model_type" "llama"',
    ],
    [
      'key/value heads that do not divide the heads',
      { ...MINIMAL_LLAMA, num_attention_heads: 4, num_key_value_heads: 3 },
      'num_key_value_heads',
      'config.json: "num_key_value_heads" (3) must divide "num_attention_heads" (4)',
    ],
    [
      'a hidden size that heads do not divide, without head_dim',
      { ...MINIMAL_LLAMA, hidden_size: 10 },
      'hidden_size',
      'config.json: "hidden_size" (10) must be a multiple of "num_attention_heads" (4) when "head_dim" is not given',
    ],
    [
      'an odd head_dim',
      { ...MINIMAL_LLAMA, head_dim: 5 },
      'head_dim',
      'config.json: "head_dim" (5) must be even for rotary embeddings',
    ],
    [
      'an odd derived head dimension',
      { ...MINIMAL_LLAMA, hidden_size: 12 },
      'hidden_size',
      'config.json: "hidden_size" / "num_attention_heads" (3) must be even for rotary embeddings',
    ],
    [
      'a zero size',
      { ...MINIMAL_LLAMA, hidden_size: 0 },
      'hidden_size',
      'config.json: "hidden_size" must be a positive integer, not 0',
    ],
    [
      'a size written as a string',
      { ...MINIMAL_LLAMA, num_hidden_layers: '2' },
      'num_hidden_layers',
      'config.json: "num_hidden_layers" must be a positive integer, not "2"',
    ],
    [
      'a fractional size',
      { ...MINIMAL_LLAMA, intermediate_size: 32.5 },
      'intermediate_size',
      'config.json: "intermediate_size" must be a positive integer, not 32.5',
    ],
    [
      'a missing size',
      { ...MINIMAL_LLAMA, vocab_size: undefined },
      'vocab_size',
      'config.json: "vocab_size" is missing',
    ],
    [
      'a negative norm epsilon',
      { ...MINIMAL_LLAMA, rms_norm_eps: -1 },
      'rms_norm_eps',
      'config.json: "rms_norm_eps" must be a positive number, not -1',
    ],
    [
      'a tie flag that is not a boolean',
      { ...MINIMAL_LLAMA, tie_word_embeddings: 'yes' },
      'tie_word_embeddings',
      'config.json: "tie_word_embeddings" must be true or false, not "yes"',
    ],
    [
      'an end token that is not an id',
      { ...MINIMAL_LLAMA, eos_token_id: 'x' },
      'eos_token_id',
      'config.json: "eos_token_id" must be a token id or a list of them, not "x"',
    ],
    [
      'rope scaling without its type',
      { ...MINIMAL_LLAMA, rope_scaling: { factor: 2 } },
      'rope_scaling.rope_type',
      'config.json: "rope_scaling.rope_type" is missing',
    ],
    [
      'llama3 rope scaling without low_freq_factor',
      { ...LLAMA_3_2_1B, rope_scaling: { ...LLAMA_3_2_1B.rope_scaling, low_freq_factor: undefined } },
      'rope_scaling.low_freq_factor',
      'config.json: "rope_scaling.low_freq_factor" is missing',
    ],
    [
      'llama3 rope scaling whose bands are inverted',
      { ...LLAMA_3_2_1B, rope_scaling: { ...LLAMA_3_2_1B.rope_scaling, high_freq_factor: 1 } },
      'rope_scaling.high_freq_factor',
      'config.json: "rope_scaling.high_freq_factor" (1) must be greater than "rope_scaling.low_freq_factor" (1)',
    ],
  ];

  it.each(malformed)('refuses %s naming the field', (_case, json, field, message) => {
    // Act
    const error = thrown(() => parseModelConfig(json));

    // Assess
    expect(error).toBeInstanceOf(MalformedModelFileError);
    expect(error.name).toBe('MalformedModelFileError');
    expect(error.message).toBe(message);
    expect(error.field).toBe(field);
  });

  it('names the file it is given in messages', () => {
    // Act
    const error = thrown(() =>
      parseModelConfig({ ...MINIMAL_LLAMA, hidden_size: 0 }, '/models/tiny/config.json'),
    );

    // Assess
    expect(error.message).toBe('config.json: "hidden_size" must be a positive integer, not 0');
    expect(error.file).toBe('/models/tiny/config.json');
  });
});

describe('readModelConfig', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'whetstone-config-'));
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads config.json from a model directory', async () => {
    // Prepare
    const modelDir = join(dir, 'qwen');
    await mkdir(modelDir);
    await writeFile(join(modelDir, 'config.json'), JSON.stringify(QWEN2_5_0_5B, null, 2));

    // Act
    const config = await readModelConfig(modelDir);

    // Assess
    expect(config).toEqual(parseModelConfig(QWEN2_5_0_5B));
  });

  it('says config.json is missing, naming the directory', async () => {
    // Prepare
    const empty = await mkdtemp(join(dir, 'empty-'));

    // Act
    const error = await readModelConfig(empty).catch((caught: unknown) => caught);

    // Assess
    expect(error).toBeInstanceOf(MalformedModelFileError);
    expect((error as Error).message).toBe(`config.json: not found in ${empty}`);
    expect((error as ModelFileError).file).toBe(join(empty, 'config.json'));
  });

  it("says config.json is not JSON, with the parser's reason", async () => {
    // Prepare
    const broken = await mkdtemp(join(dir, 'broken-'));
    const text = '{"model_type": "llama",}';
    await writeFile(join(broken, 'config.json'), text);
    const reason = (() => {
      try {
        JSON.parse(text);
        return '';
      } catch (error) {
        return (error as Error).message;
      }
    })();

    // Act
    const error = await readModelConfig(broken).catch((caught: unknown) => caught);

    // Assess
    expect(error).toBeInstanceOf(MalformedModelFileError);
    expect((error as Error).message).toBe(`config.json: invalid JSON: ${reason}`);
  });
});

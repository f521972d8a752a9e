import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type Architecture, type ModelConfig, parseModelConfig } from '../../../trainer/src/model/config';
import { expectedTensorShapes } from '../../../trainer/src/model/hf-weights';
import { type HostTensor, writeSafetensors } from '../../../trainer/src/model/safetensors';

export interface TinyModelOptions {
  readonly architecture?: Architecture;
  readonly vocabSize?: number;
  readonly hiddenSize?: number;
  readonly numLayers?: number;
  readonly numHeads?: number;
  readonly numKvHeads?: number;
  readonly intermediateSize?: number;
  /** Llama only (`attention_bias`, which also biases o_proj); Qwen2 always has it, Mistral never. */
  readonly qkvBias?: boolean;
  readonly tied?: boolean;
  readonly seed?: number;
  /** Standard deviation of the weights, biases and norm offsets from 1. */
  readonly scale?: number;
  readonly ropeTheta?: number;
  readonly maxPositionEmbeddings?: number;
  /** Extra config.json fields, written over the generated ones. */
  readonly configOverrides?: Readonly<Record<string, unknown>>;
}

export interface TinyModel {
  readonly dir: string;
  readonly config: ModelConfig;
  /** The fp32 tensors written to model.safetensors, by Hugging Face name. */
  readonly tensors: Map<string, HostTensor>;
}

const CLASS_NAMES: Readonly<Record<Architecture, string>> = {
  llama: 'LlamaForCausalLM',
  mistral: 'MistralForCausalLM',
  qwen2: 'Qwen2ForCausalLM',
};

/**
 * Writes a random tiny model in Hugging Face layout (config.json and model.safetensors, fp32) into
 * `dir`: matrices and biases normal with standard deviation `scale` (0.02), norm weights 1 plus the
 * same noise, so that no parameter is trivially zero or one. The same options give the same bytes.
 * No tokenizer files.
 */
export async function createTinyModel(dir: string, options: TinyModelOptions = {}): Promise<TinyModel> {
  const architecture = options.architecture ?? 'llama';
  const qkvBias = options.qkvBias ?? architecture === 'qwen2';
  if (architecture === 'qwen2' && !qkvBias) throw new Error('Qwen2 always has q/k/v bias');
  if (architecture === 'mistral' && qkvBias) throw new Error('Mistral has no q/k/v bias');
  const raw: Record<string, unknown> = {
    architectures: [CLASS_NAMES[architecture]],
    model_type: architecture,
    vocab_size: options.vocabSize ?? 64,
    hidden_size: options.hiddenSize ?? 16,
    intermediate_size: options.intermediateSize ?? 32,
    num_hidden_layers: options.numLayers ?? 2,
    num_attention_heads: options.numHeads ?? 4,
    num_key_value_heads: options.numKvHeads ?? 2,
    hidden_act: 'silu',
    max_position_embeddings: options.maxPositionEmbeddings ?? 128,
    rms_norm_eps: 1e-5,
    rope_theta: options.ropeTheta ?? 10000,
    rope_scaling: null,
    tie_word_embeddings: options.tied ?? false,
    bos_token_id: 1,
    eos_token_id: 2,
    torch_dtype: 'float32',
    ...(architecture === 'llama' ? { attention_bias: qkvBias, mlp_bias: false } : {}),
    ...(architecture === 'mistral' ? { sliding_window: null } : {}),
    ...(architecture === 'qwen2' ? { use_sliding_window: false, sliding_window: null } : {}),
    ...options.configOverrides,
  };
  const config = parseModelConfig(raw);

  const random = normalSampler(options.seed ?? 1);
  const scale = options.scale ?? 0.02;
  const tensors = new Map<string, HostTensor>();
  for (const [name, shape] of expectedTensorShapes(config)) {
    const data = new Float32Array(shape.reduce((product, size) => product * size, 1));
    const isNorm = name.endsWith('norm.weight');
    for (let i = 0; i < data.length; i++) data[i] = (isNorm ? 1 : 0) + scale * random();
    tensors.set(name, { shape, data });
  }

  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'config.json'), `${JSON.stringify(raw, null, 2)}\n`);
  await writeSafetensors(join(dir, 'model.safetensors'), tensors, { metadata: { format: 'pt' } });
  return { dir, config, tensors };
}

/** Standard normal samples (Box-Muller) from mulberry32, a small seeded 32-bit generator. */
function normalSampler(seed: number): () => number {
  let state = seed >>> 0;
  const uniform = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return () => {
    // 1 - u lies in (0, 1], so the logarithm is finite.
    const radius = Math.sqrt(-2 * Math.log(1 - uniform()));
    return radius * Math.cos(2 * Math.PI * uniform());
  };
}

/**
 * A safetensors file assembled by hand: the 8-byte little-endian length, `header` (JSON-encoded unless
 * it is a string) and `data`, for files the writer would never produce. `declaredHeaderBytes`
 * overrides the length written in front.
 */
export async function writeRawSafetensors(
  file: string,
  header: unknown,
  data: Uint8Array = new Uint8Array(0),
  declaredHeaderBytes?: number,
): Promise<void> {
  const headerBytes = Buffer.from(typeof header === 'string' ? header : JSON.stringify(header), 'utf8');
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(declaredHeaderBytes ?? headerBytes.length));
  await writeFile(file, Buffer.concat([length, headerBytes, data]));
}

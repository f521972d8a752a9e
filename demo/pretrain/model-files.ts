/**
 * The demo base model's architecture, its random initial weights, and its files in Hugging Face layout
 * (config.json, bf16 model.safetensors, generation_config.json, tokenizer files).
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Random } from '../../trainer/src/engine/random';
import { type ModelConfig, parseModelConfig } from '../../trainer/src/model/config';
import { expectedTensorShapes } from '../../trainer/src/model/hf-weights';
import { type HostTensor, writeSafetensors } from '../../trainer/src/model/safetensors';
import { type TokenizerFiles, writeTokenizerFiles } from './bpe';

export interface Architecture {
  readonly hiddenSize: number;
  readonly numLayers: number;
  readonly numHeads: number;
  readonly numKvHeads: number;
  readonly intermediateSize: number;
  readonly maxPositionEmbeddings: number;
  readonly ropeTheta: number;
  /** Standard deviation of the initial matrices and embeddings, as transformers' `initializer_range`. */
  readonly initializerRange: number;
}

export interface SpecialTokenIds {
  readonly endOfText: number;
  readonly imEnd: number;
}

/** config.json of a tied-embedding LlamaForCausalLM stored in bf16. */
export function configJson(
  architecture: Architecture,
  vocabSize: number,
  ids: SpecialTokenIds,
): Record<string, unknown> {
  return {
    architectures: ['LlamaForCausalLM'],
    model_type: 'llama',
    vocab_size: vocabSize,
    hidden_size: architecture.hiddenSize,
    intermediate_size: architecture.intermediateSize,
    num_hidden_layers: architecture.numLayers,
    num_attention_heads: architecture.numHeads,
    num_key_value_heads: architecture.numKvHeads,
    head_dim: architecture.hiddenSize / architecture.numHeads,
    hidden_act: 'silu',
    max_position_embeddings: architecture.maxPositionEmbeddings,
    initializer_range: architecture.initializerRange,
    rms_norm_eps: 1e-5,
    rope_theta: architecture.ropeTheta,
    rope_scaling: null,
    attention_bias: false,
    attention_dropout: 0,
    mlp_bias: false,
    pretraining_tp: 1,
    tie_word_embeddings: true,
    bos_token_id: null,
    eos_token_id: ids.imEnd,
    pad_token_id: ids.endOfText,
    torch_dtype: 'bfloat16',
    use_cache: true,
  };
}

export function parseConfig(raw: Record<string, unknown>): ModelConfig {
  return parseModelConfig(raw);
}

/** Matrices and embeddings normal(0, initializerRange), norm weights 1, drawn in tensor order from `seed`. */
export function randomWeights(
  config: ModelConfig,
  initializerRange: number,
  seed: number,
): Map<string, HostTensor> {
  const random = Random.fromSeed(seed);
  const tensors = new Map<string, HostTensor>();
  for (const [name, shape] of expectedTensorShapes(config)) {
    const data = new Float32Array(shape.reduce((product, size) => product * size, 1));
    if (name.endsWith('norm.weight')) data.fill(1);
    else for (let i = 0; i < data.length; i++) data[i] = initializerRange * random.normal();
    tensors.set(name, { shape, data });
  }
  return tensors;
}

export function parameterCount(config: ModelConfig): number {
  let total = 0;
  for (const shape of expectedTensorShapes(config).values()) total += shape.reduce((p, s) => p * s, 1);
  return total;
}

/** Writes config.json, model.safetensors (bf16), generation_config.json and the tokenizer files; returns the weights' sha256. */
export async function writeModelFiles(
  dir: string,
  config: Record<string, unknown>,
  tensors: ReadonlyMap<string, HostTensor>,
  tokenizer: TokenizerFiles,
  ids: SpecialTokenIds,
): Promise<string> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'config.json'), `${JSON.stringify(config, null, 2)}\n`);
  const generation = { eos_token_id: [ids.imEnd, ids.endOfText], pad_token_id: ids.endOfText };
  await writeFile(join(dir, 'generation_config.json'), `${JSON.stringify(generation, null, 2)}\n`);
  writeTokenizerFiles(dir, tokenizer);
  const weightsFile = join(dir, 'model.safetensors');
  await writeSafetensors(weightsFile, tensors, { metadata: { format: 'pt' }, dtype: 'BF16' });
  return sha256File(weightsFile);
}

export async function sha256File(file: string): Promise<string> {
  return createHash('sha256')
    .update(await readFile(file))
    .digest('hex');
}

/** Tiny model configs and seeded random weights held in memory, for tests that need no files. */
import { Random } from '../../../trainer/src/engine/random';
import { type ModelConfig, parseModelConfig } from '../../../trainer/src/model/config';
import type { TrainingMethod } from '../../../trainer/src/model/method';
import type { HostTensor } from '../../../trainer/src/model/safetensors';
import { baseParameterShapes, loraParameterShapes } from '../../../trainer/src/model/structure';

/** config.json of a tiny Llama (C 16, I 24, NH 4, NKV 2, HD 4, V 32, 2 layers), `fields` written over it. */
export function tinyLlamaFields(fields: Readonly<Record<string, unknown>> = {}): Record<string, unknown> {
  return {
    architectures: ['LlamaForCausalLM'],
    model_type: 'llama',
    vocab_size: 32,
    hidden_size: 16,
    intermediate_size: 24,
    num_hidden_layers: 2,
    num_attention_heads: 4,
    num_key_value_heads: 2,
    rms_norm_eps: 1e-5,
    rope_theta: 10000,
    max_position_embeddings: 64,
    ...fields,
  };
}

/** {@link tinyLlamaFields} parsed. */
export function tinyLlamaConfig(fields: Readonly<Record<string, unknown>> = {}): ModelConfig {
  return parseModelConfig(tinyLlamaFields(fields));
}

/** `length` float32 draws of offset + scale * N(0, 1). */
function normals(random: Random, length: number, scale: number, offset = 0): Float32Array {
  return Float32Array.from({ length }, () => offset + scale * random.normal());
}

/** Base weights by Hugging Face name: normal, standard deviation `scaleOf(name)`, norm weights around 1. */
export function randomWeights(
  config: ModelConfig,
  seed: number,
  scaleOf: (name: string) => number = () => 0.2,
): Map<string, HostTensor> {
  const random = Random.fromSeed(seed);
  const weights = new Map<string, HostTensor>();
  for (const { name, shape } of baseParameterShapes(config)) {
    const offset = name.endsWith('norm.weight') ? 1 : 0;
    weights.set(name, { shape, data: normals(random, elementCount(shape), scaleOf(name), offset) });
  }
  return weights;
}

/** LoRA's A and B by parameter name, normal with standard deviation `scale` (B non-zero, unlike PEFT). */
export function randomAdapter(
  config: ModelConfig,
  method: TrainingMethod,
  seed: number,
  scale: number,
): Map<string, HostTensor> {
  const random = Random.fromSeed(seed);
  return new Map(
    loraParameterShapes(config, method).map(({ name, shape }) => [
      name,
      { shape, data: normals(random, elementCount(shape), scale) },
    ]),
  );
}

/** The product of the sizes: how many elements a tensor of `shape` holds. */
function elementCount(shape: readonly number[]): number {
  return shape.reduce((product, size) => product * size, 1);
}

import { type ModelConfig, parseModelConfig } from '../model/config';
import type { TrainingMethod } from '../model/method';

export interface BenchPreset {
  readonly config: ModelConfig;
  readonly sequenceLength: number;
  readonly batchSize: number;
  readonly lora: TrainingMethod;
}

/**
 * The fixed configuration every back end and PyTorch are measured on: a Llama of 4 layers, width
 * 256 (4 heads of 64), MLP 688, vocabulary 4096, untied; 8 rows of 256 random tokens; LoRA rank 8,
 * alpha 16 on q, k, v and o.
 */
export const TINY_LLAMA: BenchPreset = {
  config: parseModelConfig({
    architectures: ['LlamaForCausalLM'],
    model_type: 'llama',
    vocab_size: 4096,
    hidden_size: 256,
    intermediate_size: 688,
    num_hidden_layers: 4,
    num_attention_heads: 4,
    num_key_value_heads: 4,
    max_position_embeddings: 256,
    rms_norm_eps: 1e-5,
    rope_theta: 10000,
    tie_word_embeddings: false,
  }),
  sequenceLength: 256,
  batchSize: 8,
  lora: {
    kind: 'lora',
    rank: 8,
    alpha: 16,
    dropout: 0,
    targetModules: ['q_proj', 'k_proj', 'v_proj', 'o_proj'],
  },
};

export const PRESETS: Readonly<Record<string, BenchPreset>> = { 'tiny-llama': TINY_LLAMA };

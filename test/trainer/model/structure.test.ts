import { describe, expect, it } from 'vitest';
import { TrainingConfigError } from '../../../trainer/src/engine/errors';
import { ReferenceBackend } from '../../../trainer/src/engine/reference';
import { type ModelConfig, parseModelConfig } from '../../../trainer/src/model/config';
import type { TrainingMethod } from '../../../trainer/src/model/method';
import { ParameterStore } from '../../../trainer/src/model/parameters';
import { bindWeights, parameterSpecs } from '../../../trainer/src/model/structure';

// C = 8, I = 12, NH = 2, NKV = 1, HD = 4, V = 32; one layer keeps the name lists readable.
function config(fields: Record<string, unknown> = {}): ModelConfig {
  return parseModelConfig({
    architectures: ['LlamaForCausalLM'],
    model_type: 'llama',
    vocab_size: 32,
    hidden_size: 8,
    intermediate_size: 12,
    num_hidden_layers: 1,
    num_attention_heads: 2,
    num_key_value_heads: 1,
    ...fields,
  });
}

const BASE = [
  ['model.embed_tokens.weight', [32, 8], true],
  ['model.layers.0.input_layernorm.weight', [8], false],
  ['model.layers.0.self_attn.q_proj.weight', [8, 8], true],
  ['model.layers.0.self_attn.k_proj.weight', [4, 8], true],
  ['model.layers.0.self_attn.v_proj.weight', [4, 8], true],
  ['model.layers.0.self_attn.o_proj.weight', [8, 8], true],
  ['model.layers.0.post_attention_layernorm.weight', [8], false],
  ['model.layers.0.mlp.gate_proj.weight', [12, 8], true],
  ['model.layers.0.mlp.up_proj.weight', [12, 8], true],
  ['model.layers.0.mlp.down_proj.weight', [8, 12], true],
  ['model.norm.weight', [8], false],
  ['lm_head.weight', [32, 8], true],
] as const;

function specsOf(method: TrainingMethod, fields: Record<string, unknown> = {}) {
  return parameterSpecs(config(fields), method).map((spec) => ({
    name: spec.name,
    shape: [...spec.shape],
    trainable: spec.trainable,
    decay: spec.decay,
  }));
}

function trainableNames(method: TrainingMethod, fields: Record<string, unknown> = {}): string[] {
  return specsOf(method, fields)
    .filter((spec) => spec.trainable)
    .map((spec) => spec.name);
}

describe('parameterSpecs', () => {
  it('lists every base tensor, trainable, with decay on matrices and embeddings only, for full fine-tuning', () => {
    // Act
    const specs = specsOf({ kind: 'full' });

    // Assess
    expect(specs).toEqual(
      BASE.map(([name, shape, decay]) => ({ name, shape: [...shape], trainable: true, decay })),
    );
  });

  it('freezes the base and adds A (r, in) and B (out, r) for each LoRA target, decayed', () => {
    // Act
    const specs = specsOf({
      kind: 'lora',
      rank: 2,
      alpha: 4,
      dropout: 0,
      targetModules: ['v_proj', 'down_proj'],
    });

    // Assess
    expect(specs.slice(0, BASE.length)).toEqual(
      BASE.map(([name, shape, decay]) => ({ name, shape: [...shape], trainable: false, decay })),
    );
    expect(specs.slice(BASE.length)).toEqual([
      { name: 'model.layers.0.self_attn.v_proj.lora_A.weight', shape: [2, 8], trainable: true, decay: true },
      { name: 'model.layers.0.self_attn.v_proj.lora_B.weight', shape: [4, 2], trainable: true, decay: true },
      { name: 'model.layers.0.mlp.down_proj.lora_A.weight', shape: [2, 12], trainable: true, decay: true },
      { name: 'model.layers.0.mlp.down_proj.lora_B.weight', shape: [8, 2], trainable: true, decay: true },
    ]);
  });

  it('adds LoRA pairs for all seven projections of every layer with all-linear', () => {
    // Act
    const names = trainableNames(
      { kind: 'lora', rank: 1, alpha: 1, dropout: 0, targetModules: 'all-linear' },
      { num_hidden_layers: 2 },
    );

    // Assess
    const modules = ['self_attn.q_proj', 'self_attn.k_proj', 'self_attn.v_proj', 'self_attn.o_proj'];
    const mlp = ['mlp.gate_proj', 'mlp.up_proj', 'mlp.down_proj'];
    expect(names).toEqual(
      [0, 1].flatMap((layer) =>
        [...modules, ...mlp].flatMap((module) => [
          `model.layers.${layer}.${module}.lora_A.weight`,
          `model.layers.${layer}.${module}.lora_B.weight`,
        ]),
      ),
    );
  });

  it('trains only the partial selection, keeping every tensor and its decay flag', () => {
    // Act
    const byLayer = specsOf({ kind: 'partial', layers: [1] }, { num_hidden_layers: 2 });
    const byModule = trainableNames({ kind: 'partial', modules: ['o_proj', 'norm', 'embed_tokens'] });

    // Assess
    expect(byLayer).toHaveLength(2 + 2 * 9 + 1);
    expect(byLayer.filter((spec) => spec.trainable).map((spec) => [spec.name, spec.decay])).toEqual([
      ['model.layers.1.input_layernorm.weight', false],
      ['model.layers.1.self_attn.q_proj.weight', true],
      ['model.layers.1.self_attn.k_proj.weight', true],
      ['model.layers.1.self_attn.v_proj.weight', true],
      ['model.layers.1.self_attn.o_proj.weight', true],
      ['model.layers.1.post_attention_layernorm.weight', false],
      ['model.layers.1.mlp.gate_proj.weight', true],
      ['model.layers.1.mlp.up_proj.weight', true],
      ['model.layers.1.mlp.down_proj.weight', true],
    ]);
    expect(byModule).toEqual([
      'model.embed_tokens.weight',
      'model.layers.0.self_attn.o_proj.weight',
      'model.norm.weight',
    ]);
  });

  it('adds q/k/v biases (Qwen2) and also the o_proj bias (Llama attention_bias), never decayed', () => {
    // Act
    const qwen = specsOf(
      { kind: 'full' },
      { architectures: ['Qwen2ForCausalLM'], model_type: 'qwen2', use_sliding_window: false },
    );
    const llama = specsOf({ kind: 'full' }, { attention_bias: true });

    // Assess
    const biases = (specs: ReturnType<typeof specsOf>) =>
      specs.filter((spec) => spec.name.endsWith('.bias')).map((spec) => [spec.name, spec.shape, spec.decay]);
    expect(biases(qwen)).toEqual([
      ['model.layers.0.self_attn.q_proj.bias', [8], false],
      ['model.layers.0.self_attn.k_proj.bias', [4], false],
      ['model.layers.0.self_attn.v_proj.bias', [4], false],
    ]);
    expect(biases(llama)).toEqual([
      ['model.layers.0.self_attn.q_proj.bias', [8], false],
      ['model.layers.0.self_attn.k_proj.bias', [4], false],
      ['model.layers.0.self_attn.v_proj.bias', [4], false],
      ['model.layers.0.self_attn.o_proj.bias', [8], false],
    ]);
    const names = qwen.map((spec) => spec.name);
    expect(names.indexOf('model.layers.0.self_attn.q_proj.bias')).toBe(
      names.indexOf('model.layers.0.self_attn.q_proj.weight') + 1,
    );
  });

  it('has no lm_head.weight when the embeddings are tied', () => {
    // Act
    const names = specsOf({ kind: 'full' }, { tie_word_embeddings: true }).map((spec) => spec.name);

    // Assess
    expect(names).toEqual(BASE.map(([name]) => name).filter((name) => name !== 'lm_head.weight'));
  });

  it('binds the LM head to the embedding itself when tied, and to its own tensor when not', () => {
    // Prepare
    const backend = new ReferenceBackend('f32');
    const tiedConfig = config({ tie_word_embeddings: true });
    const tied = new ParameterStore(backend, parameterSpecs(tiedConfig, { kind: 'full' }));
    const untied = new ParameterStore(backend, parameterSpecs(config(), { kind: 'full' }));

    // Act
    const tiedWeights = bindWeights(tiedConfig, { kind: 'full' }, tied);
    const untiedWeights = bindWeights(config(), { kind: 'full' }, untied);

    // Assess
    expect(tiedWeights.lmHead).toBe(tiedWeights.embedding);
    expect(untiedWeights.lmHead.name).toBe('lm_head.weight');
    expect(untiedWeights.lmHead).not.toBe(untiedWeights.embedding);
  });

  it('checks the method against the model first', () => {
    // Act and Assess
    expect(() => parameterSpecs(config(), { kind: 'partial', layers: [1] })).toThrow(
      new TrainingConfigError('partial.layers', 'layer 1 does not exist: the model has layers 0 to 0'),
    );
    expect(() =>
      parameterSpecs(config({ tie_word_embeddings: true }), { kind: 'partial', modules: ['lm_head'] }),
    ).toThrow('module "lm_head" matches no parameter of this model');
    expect(() =>
      parameterSpecs(config(), { kind: 'lora', rank: 0, alpha: 1, dropout: 0, targetModules: ['q_proj'] }),
    ).toThrow('LoRA rank must be a positive integer, got 0');
  });
});

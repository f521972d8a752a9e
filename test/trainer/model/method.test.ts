import { describe, expect, it } from 'vitest';
import { TrainingConfigError } from '../../../trainer/src/engine/errors';
import { parseModelConfig } from '../../../trainer/src/model/config';
import {
  checkMethod,
  checkPartialSelection,
  LINEAR_MODULES,
  type LoraMethod,
  loraTargets,
  type PartialMethod,
  type TrainingMethod,
  trainsBaseParameter,
} from '../../../trainer/src/model/method';
import { baseParameterShapes } from '../../../trainer/src/model/structure';

const CONFIG = parseModelConfig({
  architectures: ['LlamaForCausalLM'],
  model_type: 'llama',
  vocab_size: 32,
  hidden_size: 8,
  intermediate_size: 12,
  num_hidden_layers: 3,
  num_attention_heads: 2,
  num_key_value_heads: 1,
  attention_bias: true,
});
const NAMES = baseParameterShapes(CONFIG).map((shape) => shape.name);

const LORA: LoraMethod = {
  kind: 'lora',
  rank: 4,
  alpha: 8,
  dropout: 0.05,
  targetModules: ['q_proj', 'v_proj'],
};

/** The thrown error, checked to be a TrainingConfigError for `setting`, and its message. */
function configError(act: () => unknown, setting: string): string {
  try {
    act();
  } catch (error) {
    expect(error).toBeInstanceOf(TrainingConfigError);
    expect((error as TrainingConfigError).setting).toBe(setting);
    return (error as Error).message;
  }
  throw new Error('expected a TrainingConfigError');
}

describe('loraTargets', () => {
  it('expands all-linear to the seven projections, never lm_head', () => {
    // Act
    const targets = loraTargets({ ...LORA, targetModules: 'all-linear' });

    // Assess
    expect(targets).toEqual(['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj']);
    expect(targets).toEqual([...LINEAR_MODULES]);
  });

  it('keeps named modules once each, in the order given', () => {
    // Act and Assess
    expect(loraTargets({ ...LORA, targetModules: ['v_proj', 'q_proj', 'v_proj'] })).toEqual([
      'v_proj',
      'q_proj',
    ]);
  });

  it.each([
    [
      ['q_proj', 'lm_head'],
      'LoRA target module "lm_head" is not one of q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj (or "all-linear")',
    ],
    [
      ['self_attn.q_proj'],
      'LoRA target module "self_attn.q_proj" is not one of q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj (or "all-linear")',
    ],
    [[], 'LoRA needs at least one target module'],
  ])('refuses the targets %o', (targetModules, message) => {
    // Act and Assess
    expect(configError(() => loraTargets({ ...LORA, targetModules }), 'lora.target_modules')).toBe(message);
  });
});

describe('checkMethod', () => {
  it('accepts LoRA, full and partial methods that fit the model', () => {
    // Act and Assess
    expect(() => checkMethod(LORA, CONFIG)).not.toThrow();
    expect(() => checkMethod({ ...LORA, dropout: 0, rank: 1, alpha: 0.5 }, CONFIG)).not.toThrow();
    expect(() => checkMethod({ kind: 'full' }, CONFIG)).not.toThrow();
    expect(() => checkMethod({ kind: 'partial', layers: [0, 2] }, CONFIG)).not.toThrow();
    expect(() => checkMethod({ kind: 'partial', modules: ['mlp'] }, CONFIG)).not.toThrow();
  });

  it.each([
    [{ rank: 0 }, 'lora.rank', 'LoRA rank must be a positive integer, got 0'],
    [{ rank: 2.5 }, 'lora.rank', 'LoRA rank must be a positive integer, got 2.5'],
    [{ alpha: 0 }, 'lora.alpha', 'LoRA alpha must be positive, got 0'],
    [{ alpha: Number.NaN }, 'lora.alpha', 'LoRA alpha must be positive, got NaN'],
    [{ dropout: 1 }, 'lora.dropout', 'LoRA dropout must be in [0, 1), got 1'],
    [{ dropout: -0.1 }, 'lora.dropout', 'LoRA dropout must be in [0, 1), got -0.1'],
    [
      { targetModules: ['embed_tokens'] },
      'lora.target_modules',
      'LoRA target module "embed_tokens" is not one of q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj (or "all-linear")',
    ],
  ] as const)('refuses LoRA with %o', (change, setting, message) => {
    // Act and Assess
    expect(configError(() => checkMethod({ ...LORA, ...change }, CONFIG), setting)).toBe(message);
  });

  it.each([
    [{ kind: 'partial' }, 'partial', 'partial training names the layers or the modules to train'],
    [
      { kind: 'partial', layers: [], modules: [] },
      'partial',
      'partial training names the layers or the modules to train',
    ],
    [
      { kind: 'partial', layers: [3] },
      'partial.layers',
      'layer 3 does not exist: the model has layers 0 to 2',
    ],
    [
      { kind: 'partial', layers: [0, -1] },
      'partial.layers',
      'layer -1 does not exist: the model has layers 0 to 2',
    ],
    [
      { kind: 'partial', layers: [1.5], modules: ['mlp'] },
      'partial.layers',
      'layer 1.5 does not exist: the model has layers 0 to 2',
    ],
    [
      { kind: 'partial', layers: [], modules: ['mlp'] },
      'partial',
      'partial training lists are left out, not given empty',
    ],
  ] as const)('refuses partial training %o', (method, setting, message) => {
    // Act and Assess
    expect(configError(() => checkMethod(method as TrainingMethod, CONFIG), setting)).toBe(message);
  });
});

describe('trainsBaseParameter', () => {
  function trained(method: TrainingMethod): string[] {
    return NAMES.filter((name) => trainsBaseParameter(method, name));
  }

  it('trains every base parameter under full fine-tuning and none under LoRA', () => {
    // Act and Assess
    expect(trained({ kind: 'full' })).toEqual(NAMES);
    expect(trained(LORA)).toEqual([]);
  });

  it('trains every parameter of the named layers, and nothing outside the layers', () => {
    // Act
    const names = trained({ kind: 'partial', layers: [1] });

    // Assess
    expect(names).toEqual([
      'model.layers.1.input_layernorm.weight',
      'model.layers.1.self_attn.q_proj.weight',
      'model.layers.1.self_attn.q_proj.bias',
      'model.layers.1.self_attn.k_proj.weight',
      'model.layers.1.self_attn.k_proj.bias',
      'model.layers.1.self_attn.v_proj.weight',
      'model.layers.1.self_attn.v_proj.bias',
      'model.layers.1.self_attn.o_proj.weight',
      'model.layers.1.self_attn.o_proj.bias',
      'model.layers.1.post_attention_layernorm.weight',
      'model.layers.1.mlp.gate_proj.weight',
      'model.layers.1.mlp.up_proj.weight',
      'model.layers.1.mlp.down_proj.weight',
    ]);
  });

  it('trains a named module in every layer, weight and bias, by any part of its path', () => {
    // Act and Assess
    expect(trained({ kind: 'partial', modules: ['q_proj'] })).toEqual([
      'model.layers.0.self_attn.q_proj.weight',
      'model.layers.0.self_attn.q_proj.bias',
      'model.layers.1.self_attn.q_proj.weight',
      'model.layers.1.self_attn.q_proj.bias',
      'model.layers.2.self_attn.q_proj.weight',
      'model.layers.2.self_attn.q_proj.bias',
    ]);
    expect(trained({ kind: 'partial', modules: ['post_attention_layernorm'] })).toEqual([
      'model.layers.0.post_attention_layernorm.weight',
      'model.layers.1.post_attention_layernorm.weight',
      'model.layers.2.post_attention_layernorm.weight',
    ]);
    expect(trained({ kind: 'partial', modules: ['mlp'] })).toHaveLength(9);
  });

  it('reaches the embedding, the final norm and the LM head by their module names alone', () => {
    // Act and Assess
    expect(trained({ kind: 'partial', modules: ['embed_tokens'] })).toEqual(['model.embed_tokens.weight']);
    expect(trained({ kind: 'partial', modules: ['norm'] })).toEqual(['model.norm.weight']);
    expect(trained({ kind: 'partial', modules: ['lm_head'] })).toEqual(['lm_head.weight']);
    expect(trained({ kind: 'partial', modules: ['embed_tokens', 'lm_head', 'norm'] })).toEqual([
      'model.embed_tokens.weight',
      'model.norm.weight',
      'lm_head.weight',
    ]);
  });

  it('trains what both the layers and the modules select when both are named', () => {
    // Act
    const names = trained({ kind: 'partial', layers: [0, 2], modules: ['down_proj', 'input_layernorm'] });

    // Assess: layers exclude the embedding, final norm and LM head even when a module would match.
    expect(names).toEqual([
      'model.layers.0.input_layernorm.weight',
      'model.layers.0.mlp.down_proj.weight',
      'model.layers.2.input_layernorm.weight',
      'model.layers.2.mlp.down_proj.weight',
    ]);
    expect(trained({ kind: 'partial', layers: [0], modules: ['lm_head'] })).toEqual([]);
  });
});

describe('checkPartialSelection', () => {
  it('accepts a selection that matches', () => {
    // Act and Assess
    expect(() =>
      checkPartialSelection({ kind: 'partial', layers: [2], modules: ['mlp'] }, NAMES),
    ).not.toThrow();
  });

  it.each([
    [
      { kind: 'partial', modules: ['q_prj'] },
      'partial.modules',
      'module "q_prj" matches no parameter of this model',
    ],
    [
      { kind: 'partial', modules: ['mlp', 'layers'] },
      'partial.modules',
      'module "layers" matches no parameter of this model',
    ],
    [
      { kind: 'partial', layers: [0], modules: ['embed_tokens'] },
      'partial',
      'the layers and modules named select no parameter together',
    ],
  ] as const)('refuses %o', (method, setting, message) => {
    // Act and Assess
    expect(configError(() => checkPartialSelection(method as PartialMethod, NAMES), setting)).toBe(message);
  });

  it('refuses lm_head on a model that ties it to the embedding', () => {
    // Prepare
    const tiedNames = baseParameterShapes({ ...CONFIG, tieWordEmbeddings: true }).map((shape) => shape.name);

    // Act and Assess
    expect(
      configError(
        () => checkPartialSelection({ kind: 'partial', modules: ['lm_head'] }, tiedNames),
        'partial.modules',
      ),
    ).toBe('module "lm_head" matches no parameter of this model');
  });
});

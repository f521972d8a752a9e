import type { ModelConfig } from './config';
import type { Linear } from './layers/linear';
import {
  checkMethod,
  checkPartialSelection,
  type LinearModule,
  loraTargets,
  type TrainingMethod,
  trainsBaseParameter,
} from './method';
import type { Parameter, ParameterSpec, ParameterStore } from './parameters';

export interface DecoderWeights {
  readonly index: number;
  readonly inputNorm: Parameter;
  readonly q: Linear;
  readonly k: Linear;
  readonly v: Linear;
  readonly o: Linear;
  readonly postAttentionNorm: Parameter;
  readonly gate: Linear;
  readonly up: Linear;
  readonly down: Linear;
}

export interface ModelWeights {
  readonly embedding: Parameter;
  readonly layers: readonly DecoderWeights[];
  readonly finalNorm: Parameter;
  /** (V, C); the embedding itself when the model ties them. */
  readonly lmHead: Parameter;
}

interface LinearShape {
  readonly module: LinearModule;
  readonly path: string;
  readonly inFeatures: number;
  readonly outFeatures: number;
  readonly bias: boolean;
}

function linearShapes(config: ModelConfig, layer: number): LinearShape[] {
  const { hiddenSize: C, intermediateSize: I, numHeads: NH, numKvHeads: NKV, headDim: HD } = config;
  const attention = `model.layers.${layer}.self_attn`;
  const mlp = `model.layers.${layer}.mlp`;
  return [
    {
      module: 'q_proj',
      path: `${attention}.q_proj`,
      inFeatures: C,
      outFeatures: NH * HD,
      bias: config.qkvBias,
    },
    {
      module: 'k_proj',
      path: `${attention}.k_proj`,
      inFeatures: C,
      outFeatures: NKV * HD,
      bias: config.qkvBias,
    },
    {
      module: 'v_proj',
      path: `${attention}.v_proj`,
      inFeatures: C,
      outFeatures: NKV * HD,
      bias: config.qkvBias,
    },
    {
      module: 'o_proj',
      path: `${attention}.o_proj`,
      inFeatures: NH * HD,
      outFeatures: C,
      bias: config.oBias,
    },
    { module: 'gate_proj', path: `${mlp}.gate_proj`, inFeatures: C, outFeatures: I, bias: false },
    { module: 'up_proj', path: `${mlp}.up_proj`, inFeatures: C, outFeatures: I, bias: false },
    { module: 'down_proj', path: `${mlp}.down_proj`, inFeatures: I, outFeatures: C, bias: false },
  ];
}

/** The base model's tensors, by Hugging Face name, in the model's order. */
export function baseParameterShapes(
  config: ModelConfig,
): { name: string; shape: number[]; decay: boolean }[] {
  const { hiddenSize: C, vocabSize: V } = config;
  const shapes = [{ name: 'model.embed_tokens.weight', shape: [V, C], decay: true }];
  for (let layer = 0; layer < config.numLayers; layer++) {
    shapes.push({ name: `model.layers.${layer}.input_layernorm.weight`, shape: [C], decay: false });
    for (const linear of linearShapes(config, layer)) {
      shapes.push({
        name: `${linear.path}.weight`,
        shape: [linear.outFeatures, linear.inFeatures],
        decay: true,
      });
      if (linear.bias)
        shapes.push({ name: `${linear.path}.bias`, shape: [linear.outFeatures], decay: false });
      if (linear.module === 'o_proj') {
        shapes.push({
          name: `model.layers.${layer}.post_attention_layernorm.weight`,
          shape: [C],
          decay: false,
        });
      }
    }
  }
  shapes.push({ name: 'model.norm.weight', shape: [C], decay: false });
  if (!config.tieWordEmbeddings) shapes.push({ name: 'lm_head.weight', shape: [V, C], decay: true });
  return shapes;
}

/** LoRA's tensors for each targeted projection: PEFT's names less the `base_model.model.` prefix. */
export function loraParameterShapes(
  config: ModelConfig,
  method: TrainingMethod,
): { name: string; shape: number[] }[] {
  if (method.kind !== 'lora') return [];
  const targets = loraTargets(method);
  const shapes: { name: string; shape: number[] }[] = [];
  for (let layer = 0; layer < config.numLayers; layer++) {
    for (const linear of linearShapes(config, layer)) {
      if (!targets.includes(linear.module)) continue;
      shapes.push({ name: `${linear.path}.lora_A.weight`, shape: [method.rank, linear.inFeatures] });
      shapes.push({ name: `${linear.path}.lora_B.weight`, shape: [linear.outFeatures, method.rank] });
    }
  }
  return shapes;
}

export function parameterSpecs(config: ModelConfig, method: TrainingMethod): ParameterSpec[] {
  checkMethod(method, config);
  const base = baseParameterShapes(config);
  if (method.kind === 'partial')
    checkPartialSelection(
      method,
      base.map((shape) => shape.name),
    );
  return [
    ...base.map((shape) => ({ ...shape, trainable: trainsBaseParameter(method, shape.name) })),
    ...loraParameterShapes(config, method).map((shape) => ({ ...shape, trainable: true, decay: true })),
  ];
}

export function bindWeights(
  config: ModelConfig,
  method: TrainingMethod,
  parameters: ParameterStore,
): ModelWeights {
  const lora = method.kind === 'lora' ? method : null;
  const linear = (shape: LinearShape): Linear => {
    const a = lora ? parameters.find(`${shape.path}.lora_A.weight`) : undefined;
    const b = lora ? parameters.find(`${shape.path}.lora_B.weight`) : undefined;
    return {
      path: shape.path,
      inFeatures: shape.inFeatures,
      outFeatures: shape.outFeatures,
      weight: parameters.get(`${shape.path}.weight`),
      bias: shape.bias ? parameters.get(`${shape.path}.bias`) : null,
      lora:
        lora && a && b
          ? { a, b, rank: lora.rank, scale: lora.alpha / lora.rank, dropout: lora.dropout }
          : null,
    };
  };
  const layers: DecoderWeights[] = [];
  for (let index = 0; index < config.numLayers; index++) {
    const [q, k, v, o, gate, up, down] = linearShapes(config, index).map(linear) as [
      Linear,
      Linear,
      Linear,
      Linear,
      Linear,
      Linear,
      Linear,
    ];
    layers.push({
      index,
      inputNorm: parameters.get(`model.layers.${index}.input_layernorm.weight`),
      q,
      k,
      v,
      o,
      postAttentionNorm: parameters.get(`model.layers.${index}.post_attention_layernorm.weight`),
      gate,
      up,
      down,
    });
  }
  const embedding = parameters.get('model.embed_tokens.weight');
  return {
    embedding,
    layers,
    finalNorm: parameters.get('model.norm.weight'),
    lmHead: config.tieWordEmbeddings ? embedding : parameters.get('lm_head.weight'),
  };
}

export function linearsOf(layer: DecoderWeights): Linear[] {
  return [layer.q, layer.k, layer.v, layer.o, layer.gate, layer.up, layer.down];
}

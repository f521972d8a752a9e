import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { MalformedModelFileError, UnsupportedModelError } from './errors';

export type Architecture = 'llama' | 'mistral' | 'qwen2';

/** How rotary frequencies are rescaled for long contexts; `null` in `ModelConfig` when they are not. */
export type RopeScaling =
  | {
      readonly type: 'llama3';
      readonly factor: number;
      readonly lowFreqFactor: number;
      readonly highFreqFactor: number;
      readonly originalMaxPositionEmbeddings: number;
    }
  | { readonly type: 'linear'; readonly factor: number };

export interface ModelConfig {
  readonly architecture: Architecture;
  readonly vocabSize: number;
  readonly hiddenSize: number;
  readonly intermediateSize: number;
  readonly numLayers: number;
  readonly numHeads: number;
  readonly numKvHeads: number;
  /** `head_dim` when config.json gives it (it need not be hidden / heads), else hidden / heads. */
  readonly headDim: number;
  readonly rmsNormEps: number;
  readonly ropeTheta: number;
  readonly ropeScaling: RopeScaling | null;
  readonly maxPositionEmbeddings: number;
  readonly tieWordEmbeddings: boolean;
  /** Bias on q_proj, k_proj and v_proj: always for Qwen2, `attention_bias` for Llama, never for Mistral. */
  readonly qkvBias: boolean;
  /** Bias on o_proj: Llama's `attention_bias` puts one there too; Qwen2 and Mistral have none. */
  readonly oBias: boolean;
  /**
   * Mistral's sliding attention window: a position attends to at most this many positions (itself
   * included). `null` when the model has none, or when it is not shorter than
   * `maxPositionEmbeddings` and so never binds. Attention over a sequence no longer than the window
   * is plain causal attention, so the engine, which implements only that, must refuse sequences
   * longer than this.
   */
  readonly slidingWindow: number | null;
  readonly bosTokenId: number | null;
  readonly eosTokenIds: readonly number[];
  /** The config.json object as read; written back when a model is saved. */
  readonly raw: Readonly<Record<string, unknown>>;
}

const CAUSAL_LM_CLASSES: Readonly<Record<Architecture, string>> = {
  llama: 'LlamaForCausalLM',
  mistral: 'MistralForCausalLM',
  qwen2: 'Qwen2ForCausalLM',
};
const ARCHITECTURES = Object.keys(CAUSAL_LM_CLASSES) as Architecture[];

/** transformers' defaults (LlamaConfig, MistralConfig, Qwen2Config) for what a config.json may omit. */
const DEFAULTS: Readonly<
  Record<
    Architecture,
    {
      readonly maxPositionEmbeddings: number;
      readonly bosTokenId: number | null;
      readonly eosTokenId: number | null;
      readonly slidingWindow: number | null;
    }
  >
> = {
  llama: { maxPositionEmbeddings: 2048, bosTokenId: 1, eosTokenId: 2, slidingWindow: null },
  mistral: { maxPositionEmbeddings: 4096 * 32, bosTokenId: 1, eosTokenId: 2, slidingWindow: 4096 },
  qwen2: { maxPositionEmbeddings: 32768, bosTokenId: null, eosTokenId: null, slidingWindow: null },
};
const DEFAULT_RMS_NORM_EPS = 1e-6;
const DEFAULT_ROPE_THETA = 10000;

// Every check of one field reports the same expectation; the value is appended ("..., not 0").
const positiveInteger = z
  .int({ error: 'must be a positive integer' })
  .positive({ error: 'must be a positive integer' });
const tokenId = z.int({ error: 'must be a token id' }).nonnegative({ error: 'must be a token id' });
const positiveNumber = z
  .number({ error: 'must be a positive number' })
  .positive({ error: 'must be a positive number' });
const flag = z.boolean({ error: 'must be true or false' });

/**
 * The sizes are required although transformers has defaults for them (a 7B model's): save_pretrained
 * always writes them, and a config.json without them is better refused than read as a 7B model.
 */
const configSchema = z.looseObject({
  vocab_size: positiveInteger,
  hidden_size: positiveInteger,
  intermediate_size: positiveInteger,
  num_hidden_layers: positiveInteger,
  num_attention_heads: positiveInteger,
  num_key_value_heads: positiveInteger.nullish(),
  head_dim: positiveInteger.nullish(),
  hidden_act: z.string({ error: 'must be a string' }).nullish(),
  rms_norm_eps: positiveNumber.nullish(),
  rope_theta: positiveNumber.nullish(),
  max_position_embeddings: positiveInteger.nullish(),
  tie_word_embeddings: flag.nullish(),
  attention_bias: flag.nullish(),
  mlp_bias: flag.nullish(),
  use_sliding_window: flag.nullish(),
  sliding_window: positiveInteger.nullish(),
  bos_token_id: tokenId.nullish(),
  eos_token_id: z
    .union([tokenId, z.array(tokenId)], { error: 'must be a token id or a list of them' })
    .nullish(),
});

const ropeObjectSchema = z.looseObject({
  rope_type: z.string({ error: 'must be a string' }).nullish(),
  type: z.string({ error: 'must be a string' }).nullish(),
  rope_theta: positiveNumber.nullish(),
});
const llama3RopeSchema = z.looseObject({
  factor: positiveNumber,
  low_freq_factor: positiveNumber,
  high_freq_factor: positiveNumber,
  original_max_position_embeddings: positiveInteger,
});
const linearRopeSchema = z.looseObject({ factor: positiveNumber });

/**
 * Reads a Hugging Face config.json object for a Llama, Mistral or Qwen2 causal LM. Throws
 * `UnsupportedModelError` for what the engine does not implement (other architectures, activations
 * other than SiLU, MLP bias, rope scaling other than llama3 and linear, Qwen2's sliding window,
 * quantized weights) and `MalformedModelFileError` for missing or invalid fields; messages name
 * `file` and the field.
 */
export function parseModelConfig(json: unknown, file = 'config.json'): ModelConfig {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new MalformedModelFileError(`must hold a JSON object, not ${describeValue(json)}`, { file });
  }
  const raw = structuredClone(json) as Record<string, unknown>;
  const architecture = readArchitecture(raw, file);
  refuseQuantization(raw, file);
  const fields = parseWith(configSchema, raw, file, '');
  const defaults = DEFAULTS[architecture];

  if (fields.hidden_act != null && fields.hidden_act !== 'silu' && fields.hidden_act !== 'swish') {
    // transformers maps both names to the same SiLU.
    throw new UnsupportedModelError(
      `"hidden_act" ${JSON.stringify(fields.hidden_act)} is not supported; supported: silu`,
      {
        file,
        field: 'hidden_act',
      },
    );
  }
  if (architecture === 'llama' && fields.mlp_bias === true) {
    throw new UnsupportedModelError('"mlp_bias" true is not supported; MLP projections here have no bias', {
      file,
      field: 'mlp_bias',
    });
  }
  if (architecture === 'qwen2' && fields.use_sliding_window === true) {
    throw new UnsupportedModelError(
      '"use_sliding_window" true is not supported; attention here is full causal',
      {
        file,
        field: 'use_sliding_window',
      },
    );
  }

  const numHeads = fields.num_attention_heads;
  const numKvHeads = fields.num_key_value_heads ?? numHeads;
  if (numHeads % numKvHeads !== 0) {
    throw new MalformedModelFileError(
      `"num_key_value_heads" (${numKvHeads}) must divide "num_attention_heads" (${numHeads})`,
      { file, field: 'num_key_value_heads' },
    );
  }
  const headDim = readHeadDim(fields.head_dim, fields.hidden_size, numHeads, file);

  const maxPositionEmbeddings = fields.max_position_embeddings ?? defaults.maxPositionEmbeddings;
  const { ropeTheta, ropeScaling } = readRope(raw, fields.rope_theta, file);
  const attentionBias = architecture === 'llama' && fields.attention_bias === true;
  const window =
    architecture === 'mistral'
      ? fields.sliding_window === undefined
        ? defaults.slidingWindow
        : fields.sliding_window
      : null;
  const eos = fields.eos_token_id === undefined ? defaults.eosTokenId : fields.eos_token_id;

  return {
    architecture,
    vocabSize: fields.vocab_size,
    hiddenSize: fields.hidden_size,
    intermediateSize: fields.intermediate_size,
    numLayers: fields.num_hidden_layers,
    numHeads,
    numKvHeads,
    headDim,
    rmsNormEps: fields.rms_norm_eps ?? DEFAULT_RMS_NORM_EPS,
    ropeTheta,
    ropeScaling,
    maxPositionEmbeddings,
    tieWordEmbeddings: fields.tie_word_embeddings ?? false,
    qkvBias: architecture === 'qwen2' || attentionBias,
    oBias: attentionBias,
    slidingWindow: window !== null && window < maxPositionEmbeddings ? window : null,
    bosTokenId: fields.bos_token_id === undefined ? defaults.bosTokenId : fields.bos_token_id,
    eosTokenIds: eos === null ? [] : typeof eos === 'number' ? [eos] : eos,
    raw,
  };
}

/** Reads and parses `dir/config.json`. */
export async function readModelConfig(dir: string): Promise<ModelConfig> {
  const file = join(dir, 'config.json');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new MalformedModelFileError(`not found in ${dir}`, { file, cause: error });
    }
    throw error;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new MalformedModelFileError(`invalid JSON: ${(error as Error).message}`, { file, cause: error });
  }
  return parseModelConfig(json, file);
}

/** `model_type` decides, as for transformers' AutoConfig; `architectures`, when given, must agree. */
function readArchitecture(raw: Record<string, unknown>, file: string): Architecture {
  const modelType = raw.model_type;
  let architecture: Architecture | undefined;
  if (modelType !== undefined && modelType !== null) {
    if (typeof modelType !== 'string') {
      throw new MalformedModelFileError(`"model_type" must be a string, not ${describeValue(modelType)}`, {
        file,
        field: 'model_type',
      });
    }
    if (!(ARCHITECTURES as string[]).includes(modelType)) {
      throw new UnsupportedModelError(
        `"model_type" ${JSON.stringify(modelType)} is not supported; supported: ${ARCHITECTURES.join(', ')}`,
        { file, field: 'model_type' },
      );
    }
    architecture = modelType as Architecture;
  }

  const classes = raw.architectures;
  if (classes !== undefined && classes !== null) {
    if (
      !Array.isArray(classes) ||
      classes.length === 0 ||
      classes.some((entry) => typeof entry !== 'string')
    ) {
      throw new MalformedModelFileError(
        `"architectures" must be a non-empty list of class names, not ${describeValue(classes)}`,
        { file, field: 'architectures' },
      );
    }
    for (const name of classes as string[]) {
      const named = ARCHITECTURES.find((candidate) => CAUSAL_LM_CLASSES[candidate] === name);
      if (named === undefined) {
        throw new UnsupportedModelError(
          `"architectures" ${JSON.stringify(classes)} is not supported; supported: ${Object.values(CAUSAL_LM_CLASSES).join(', ')}`,
          { file, field: 'architectures' },
        );
      }
      if (architecture !== undefined && named !== architecture) {
        throw new MalformedModelFileError(
          `"architectures" ${JSON.stringify(classes)} does not match "model_type" ${JSON.stringify(architecture)}`,
          { file, field: 'architectures' },
        );
      }
      architecture = named;
    }
  }
  if (architecture === undefined) {
    throw new MalformedModelFileError('"model_type" is missing', { file, field: 'model_type' });
  }
  return architecture;
}

function refuseQuantization(raw: Record<string, unknown>, file: string): void {
  const quantization = raw.quantization_config;
  if (quantization === undefined || quantization === null) return;
  const method = (quantization as { quant_method?: unknown }).quant_method;
  const named = typeof method === 'string' ? ` (${method})` : '';
  throw new UnsupportedModelError(
    `"quantization_config" is not supported: the weights are quantized${named}; train from unquantized weights`,
    { file, field: 'quantization_config' },
  );
}

function readHeadDim(
  headDim: number | null | undefined,
  hiddenSize: number,
  numHeads: number,
  file: string,
): number {
  if (headDim != null) {
    if (headDim % 2 !== 0) {
      throw new MalformedModelFileError(`"head_dim" (${headDim}) must be even for rotary embeddings`, {
        file,
        field: 'head_dim',
      });
    }
    return headDim;
  }
  if (hiddenSize % numHeads !== 0) {
    throw new MalformedModelFileError(
      `"hidden_size" (${hiddenSize}) must be a multiple of "num_attention_heads" (${numHeads}) when "head_dim" is not given`,
      { file, field: 'hidden_size' },
    );
  }
  const derived = hiddenSize / numHeads;
  if (derived % 2 !== 0) {
    throw new MalformedModelFileError(
      `"hidden_size" / "num_attention_heads" (${derived}) must be even for rotary embeddings`,
      { file, field: 'hidden_size' },
    );
  }
  return derived;
}

/**
 * transformers 4.x writes `rope_theta` and `rope_scaling` at the top level (`type` is the older name of
 * `rope_type`); transformers 5 writes both inside `rope_parameters`. Either reads the same here.
 */
function readRope(
  raw: Record<string, unknown>,
  topLevelTheta: number | null | undefined,
  file: string,
): { ropeTheta: number; ropeScaling: RopeScaling | null } {
  const source = raw.rope_parameters != null ? 'rope_parameters' : 'rope_scaling';
  const value = raw[source];
  if (value === undefined || value === null) {
    return { ropeTheta: topLevelTheta ?? DEFAULT_ROPE_THETA, ropeScaling: null };
  }
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new MalformedModelFileError(`"${source}" must be an object, not ${describeValue(value)}`, {
      file,
      field: source,
    });
  }
  const rope = parseWith(ropeObjectSchema, value, file, `${source}.`);
  const ropeTheta = rope.rope_theta ?? topLevelTheta ?? DEFAULT_ROPE_THETA;
  const typeKey = rope.rope_type != null ? 'rope_type' : rope.type != null ? 'type' : undefined;
  if (typeKey === undefined) {
    if (source === 'rope_parameters') return { ropeTheta, ropeScaling: null };
    throw new MalformedModelFileError(`"${source}.rope_type" is missing`, {
      file,
      field: `${source}.rope_type`,
    });
  }
  const ropeType = rope[typeKey] as string;
  switch (ropeType) {
    case 'default':
      return { ropeTheta, ropeScaling: null };
    case 'linear': {
      const linear = parseWith(linearRopeSchema, value, file, `${source}.`);
      return { ropeTheta, ropeScaling: { type: 'linear', factor: linear.factor } };
    }
    case 'llama3': {
      const llama3 = parseWith(llama3RopeSchema, value, file, `${source}.`);
      // The smoothing between the two bands divides by their difference.
      if (llama3.high_freq_factor <= llama3.low_freq_factor) {
        throw new MalformedModelFileError(
          `"${source}.high_freq_factor" (${llama3.high_freq_factor}) must be greater than "${source}.low_freq_factor" (${llama3.low_freq_factor})`,
          { file, field: `${source}.high_freq_factor` },
        );
      }
      return {
        ropeTheta,
        ropeScaling: {
          type: 'llama3',
          factor: llama3.factor,
          lowFreqFactor: llama3.low_freq_factor,
          highFreqFactor: llama3.high_freq_factor,
          originalMaxPositionEmbeddings: llama3.original_max_position_embeddings,
        },
      };
    }
    default:
      throw new UnsupportedModelError(
        `"${source}.${typeKey}" ${JSON.stringify(ropeType)} is not supported; supported: default, linear, llama3`,
        { file, field: `${source}.${typeKey}` },
      );
  }
}

/** Parses with `schema`, turning its first issue into `"<prefix><path>" <expectation>, not <value>`. */
function parseWith<T>(schema: z.ZodType<T>, value: unknown, file: string, prefix: string): T {
  const result = schema.safeParse(value, { reportInput: true });
  if (result.success) return result.data;
  const issue = result.error.issues[0] as z.core.$ZodIssue & { input?: unknown };
  const field = `${prefix}${issue.path.map(String).join('.')}`;
  const message =
    issue.input === undefined ? 'is missing' : `${issue.message}, not ${describeValue(issue.input)}`;
  throw new MalformedModelFileError(`"${field}" ${message}`, { file, field });
}

function describeValue(value: unknown): string {
  return value === undefined ? 'undefined' : JSON.stringify(value);
}

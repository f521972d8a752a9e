import { PutObjectCommand } from '@aws-sdk/client-s3';
import { createS3Client } from '../../lib/adapters';
import type { ModelObject } from '../../lib/core/schemas';
import { objectKeys } from '../../lib/core/storage';
import type { TestPlatform } from './platform';

/** The tiny model's dimensions: big enough to exercise every layer kind, small enough to train in a test. */
export const TINY_LLAMA_CONFIG = {
  architectures: ['LlamaForCausalLM'],
  model_type: 'llama',
  hidden_size: 16,
  intermediate_size: 32,
  num_hidden_layers: 2,
  num_attention_heads: 2,
  num_key_value_heads: 1,
  head_dim: 8,
  vocab_size: 64,
  max_position_embeddings: 128,
  rms_norm_eps: 1e-6,
  rope_theta: 10000,
  hidden_act: 'silu',
  attention_bias: false,
  tie_word_embeddings: false,
  bos_token_id: 1,
  eos_token_id: 2,
  initializer_range: 0.02,
  torch_dtype: 'float32',
} as const;

type Shape = readonly number[];

/** Hugging Face's tensor names for LlamaForCausalLM, with their shapes. */
export function tinyLlamaTensorShapes(config = TINY_LLAMA_CONFIG): Record<string, Shape> {
  const {
    hidden_size: hidden,
    intermediate_size: intermediate,
    vocab_size: vocab,
    head_dim: headDim,
  } = config;
  const queryWidth = config.num_attention_heads * headDim;
  const keyValueWidth = config.num_key_value_heads * headDim;
  const shapes: Record<string, Shape> = { 'model.embed_tokens.weight': [vocab, hidden] };
  for (let layer = 0; layer < config.num_hidden_layers; layer++) {
    const at = `model.layers.${layer}`;
    shapes[`${at}.input_layernorm.weight`] = [hidden];
    shapes[`${at}.self_attn.q_proj.weight`] = [queryWidth, hidden];
    shapes[`${at}.self_attn.k_proj.weight`] = [keyValueWidth, hidden];
    shapes[`${at}.self_attn.v_proj.weight`] = [keyValueWidth, hidden];
    shapes[`${at}.self_attn.o_proj.weight`] = [hidden, queryWidth];
    shapes[`${at}.post_attention_layernorm.weight`] = [hidden];
    shapes[`${at}.mlp.gate_proj.weight`] = [intermediate, hidden];
    shapes[`${at}.mlp.up_proj.weight`] = [intermediate, hidden];
    shapes[`${at}.mlp.down_proj.weight`] = [hidden, intermediate];
  }
  shapes['model.norm.weight'] = [hidden];
  shapes['lm_head.weight'] = [vocab, hidden];
  return shapes;
}

/** mulberry32: a fixed seed gives the same weights on every run and machine. */
function pseudoRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let value = state;
    value = Math.imul(value ^ (value >>> 15), value | 1);
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61);
    return ((value ^ (value >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A safetensors file: 8-byte little-endian header length, the JSON header (padded with spaces
 * to a multiple of 8, so every tensor starts aligned), then the tensors' bytes in header order.
 */
export function encodeSafetensors(tensors: Record<string, { shape: Shape; values: Float32Array }>): Buffer {
  const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
  let offset = 0;
  for (const [name, tensor] of Object.entries(tensors)) {
    const expected = tensor.shape.reduce((product, size) => product * size, 1);
    if (tensor.values.length !== expected) {
      throw new Error(`${name}: ${tensor.values.length} values for shape [${tensor.shape.join(', ')}]`);
    }
    header[name] = {
      dtype: 'F32',
      shape: tensor.shape,
      data_offsets: [offset, offset + tensor.values.byteLength],
    };
    offset += tensor.values.byteLength;
  }
  let headerText = JSON.stringify(header);
  headerText += ' '.repeat((8 - (Buffer.byteLength(headerText) % 8)) % 8);
  const headerBytes = Buffer.from(headerText, 'utf8');
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(headerBytes.length));
  const data = Object.values(tensors).map((tensor) =>
    Buffer.from(tensor.values.buffer, tensor.values.byteOffset, tensor.values.byteLength),
  );
  return Buffer.concat([length, headerBytes, ...data]);
}

/** Norms start at one, as in a freshly initialised model; every matrix is uniform in ±0.1. */
export function tinyLlamaSafetensors(seed = 1): Buffer {
  const next = pseudoRandom(seed);
  const tensors: Record<string, { shape: Shape; values: Float32Array }> = {};
  for (const [name, shape] of Object.entries(tinyLlamaTensorShapes())) {
    const values = new Float32Array(shape.reduce((product, size) => product * size, 1));
    const isNorm = name.endsWith('norm.weight');
    for (let index = 0; index < values.length; index++) values[index] = isNorm ? 1 : (next() * 2 - 1) * 0.1;
    tensors[name] = { shape, values };
  }
  return encodeSafetensors(tensors);
}

/** Three special tokens, then one token per character; text outside them becomes `<unk>`. */
const TINY_VOCABULARY = [
  '<unk>',
  '<s>',
  '</s>',
  ' ',
  '\n',
  ...'abcdefghijklmnopqrstuvwxyz0123456789',
  ...'.,:;?!\'"-+=()/*_#@&%[]<',
];

/** A character-level BPE tokenizer (no merges) in the `tokenizers` library's JSON format. */
export function tinyTokenizerJson(): string {
  if (TINY_VOCABULARY.length !== TINY_LLAMA_CONFIG.vocab_size) {
    throw new Error(
      `the tiny vocabulary has ${TINY_VOCABULARY.length} tokens, not ${TINY_LLAMA_CONFIG.vocab_size}`,
    );
  }
  const special = (id: number) => ({
    id,
    content: TINY_VOCABULARY[id],
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
  });
  return JSON.stringify({
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [special(0), special(1), special(2)],
    normalizer: null,
    pre_tokenizer: null,
    post_processor: null,
    decoder: null,
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: '<unk>',
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      vocab: Object.fromEntries(TINY_VOCABULARY.map((token, id) => [token, id])),
      merges: [],
    },
  });
}

/** Every file of the tiny model's Hugging Face folder, by name. */
export function tinyLlamaFiles(): Record<string, Buffer> {
  return {
    'config.json': Buffer.from(JSON.stringify(TINY_LLAMA_CONFIG, null, 2)),
    'model.safetensors': tinyLlamaSafetensors(),
    'tokenizer.json': Buffer.from(tinyTokenizerJson()),
    'tokenizer_config.json': Buffer.from(
      JSON.stringify({
        bos_token: '<s>',
        eos_token: '</s>',
        unk_token: '<unk>',
        model_max_length: TINY_LLAMA_CONFIG.max_position_embeddings,
        chat_template:
          "{% for message in messages %}{{ message['role'] }}: {{ message['content'] }}\n{% endfor %}",
      }),
    ),
  };
}

/** Writes files under `prefix` in the platform's bucket, as an operator would upload a model. */
export async function uploadModelFiles(
  platform: TestPlatform,
  prefix: string,
  files: Record<string, Uint8Array>,
): Promise<void> {
  const s3 = createS3Client({
    endpoint: platform.platform.s3Endpoint,
    forcePathStyle: true,
    region: 'us-east-1',
  });
  try {
    for (const [name, body] of Object.entries(files)) {
      await s3.send(
        new PutObjectCommand({ Bucket: platform.platform.bucket, Key: `${prefix}${name}`, Body: body }),
      );
    }
  } finally {
    s3.destroy();
  }
}

/**
 * Generates the tiny Llama model, uploads it to `models/{id}/` and registers it with the owner
 * key; returns the registered model object.
 */
export async function registerTinyModel(platform: TestPlatform, id = 'tiny-llama'): Promise<ModelObject> {
  await uploadModelFiles(platform, objectKeys.model(id), tinyLlamaFiles());
  return registerUploadedModel(platform, id);
}

/** Registers, with the owner key, a base model whose files are already under `models/{id}/`. */
export async function registerUploadedModel(platform: TestPlatform, id: string): Promise<ModelObject> {
  const response = await platform.call(platform.ownerKey, 'POST', '/v1/whetstone/models', {
    body: JSON.stringify({ id }),
    headers: { 'Content-Type': 'application/json' },
  });
  if (response.status !== 200)
    throw new Error(`registering ${id}: ${response.status} ${await response.text()}`);
  return (await response.json()) as ModelObject;
}

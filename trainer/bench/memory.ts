/**
 * The largest model each back end can fine-tune in a memory budget, with LoRA and with full
 * fine-tuning. Not part of the test suite.
 *
 *   npx tsx trainer/bench/memory.ts [--budget-gib 24] [--seq 1024] [--batch 1]
 *
 * It counts the bytes a back end holds while small Llamas load and take one real optimizer step,
 * checks a formula of the engine's memory layout against those counts, then applies the formula to
 * real models' config.json sizes. See README.md beside this file.
 */
import { constants as bufferConstants } from 'node:buffer';
import { parseArgs } from 'node:util';
import { TINY_LLAMA } from '../src/bench/presets';
import type { DeviceBuffer, DType } from '../src/engine/backend';
import { createBackend } from '../src/engine/backends';
import { Random } from '../src/engine/random';
import { ReferenceBackend } from '../src/engine/reference';
import { type ModelConfig, parseModelConfig } from '../src/model/config';
import { LlamaModel } from '../src/model/llama';
import { loraTargets, type TrainingMethod } from '../src/model/method';
import type { HostTensor } from '../src/model/safetensors';
import { baseParameterShapes, parameterSpecs } from '../src/model/structure';
import type { TokenizedExample } from '../src/train/examples';
import { DEFAULT_TRAINING, TrainingRun } from '../src/train/run';

const USAGE = 'usage: npx tsx trainer/bench/memory.ts [--budget-gib N] [--seq N] [--batch N]';
const GIB = 2 ** 30;
const MIB = 2 ** 20;
/** f32 and i32 alike: the engine has no other element type. */
const BYTES_PER_ELEMENT = 4;
/**
 * V8's limit on a typed array's length, in elements (v8::TypedArray::kMaxLength, which Node exports
 * as buffer.constants.MAX_LENGTH): 2^32 in Node 20. ParameterStore keeps every frozen parameter in
 * one buffer and every trainable one in another, so a model larger than this cannot be created.
 */
const TYPED_ARRAY_MAX_LENGTH = bufferConstants.MAX_LENGTH;

const METHODS = {
  lora: TINY_LLAMA.lora,
  full: { kind: 'full' },
} as const satisfies Record<string, TrainingMethod>;
type MethodName = keyof typeof METHODS;
const METHOD_NAMES = Object.keys(METHODS) as MethodName[];

interface Options {
  readonly budgetGib: number;
  readonly seq: number;
  readonly batch: number;
}

/** A small model measured for real: one optimizer step at batch x seq tokens. */
interface MeasuredShape {
  readonly label: string;
  readonly config: ModelConfig;
  readonly batch: number;
  readonly seq: number;
}

/** The config.json fields that size a model, with the rest at the family's values. */
function smallConfig(
  modelType: 'llama' | 'qwen2',
  hidden: number,
  layers: number,
  heads: number,
  kvHeads: number,
  vocab: number,
  tied: boolean,
): ModelConfig {
  return parseModelConfig({
    model_type: modelType,
    vocab_size: vocab,
    hidden_size: hidden,
    // About 2.7x hidden, rounded to a multiple of 16, as Llama sizes its MLP.
    intermediate_size: Math.round((hidden * 8) / 3 / 16) * 16,
    num_hidden_layers: layers,
    num_attention_heads: heads,
    num_key_value_heads: kvHeads,
    max_position_embeddings: 1024,
    tie_word_embeddings: tied,
  });
}

/**
 * Head dim 64 throughout; grouped key/value heads, tied embeddings, Qwen2's q/k/v biases and a
 * sequence past the initial 256 rotary positions (the tables then grow) each appear at least once.
 */
const SMALLEST: MeasuredShape = {
  label: 'llama C128 L2 H2/2 V4096',
  config: smallConfig('llama', 128, 2, 2, 2, 4096, false),
  batch: 2,
  seq: 64,
};
const MEASURED: readonly MeasuredShape[] = [
  SMALLEST,
  {
    label: 'llama C256 L2 H4/1 V8192 tied',
    config: smallConfig('llama', 256, 2, 4, 1, 8192, true),
    batch: 1,
    seq: 128,
  },
  {
    label: 'qwen2 C256 L4 H4/2 V4096',
    config: smallConfig('qwen2', 256, 4, 4, 2, 4096, false),
    batch: 4,
    seq: 32,
  },
  {
    label: 'llama C128 L4 H2/1 V8192 tied',
    config: smallConfig('llama', 128, 4, 2, 1, 8192, true),
    batch: 1,
    seq: 300,
  },
];

/**
 * Real models, from the config.json fields that size them as their Hugging Face repositories give
 * them (head dim is hidden / heads for all of them; Qwen2 adds q/k/v biases).
 */
const ARCHITECTURES: readonly { readonly name: string; readonly json: Record<string, unknown> }[] = [
  {
    name: 'Qwen2.5-0.5B',
    json: {
      model_type: 'qwen2',
      hidden_size: 896,
      intermediate_size: 4864,
      num_hidden_layers: 24,
      num_attention_heads: 14,
      num_key_value_heads: 2,
      vocab_size: 151936,
      max_position_embeddings: 32768,
      tie_word_embeddings: true,
    },
  },
  {
    name: 'Llama-3.2-1B',
    json: {
      model_type: 'llama',
      hidden_size: 2048,
      intermediate_size: 8192,
      num_hidden_layers: 16,
      num_attention_heads: 32,
      num_key_value_heads: 8,
      vocab_size: 128256,
      max_position_embeddings: 131072,
      tie_word_embeddings: true,
    },
  },
  {
    name: 'Qwen2.5-1.5B',
    json: {
      model_type: 'qwen2',
      hidden_size: 1536,
      intermediate_size: 8960,
      num_hidden_layers: 28,
      num_attention_heads: 12,
      num_key_value_heads: 2,
      vocab_size: 151936,
      max_position_embeddings: 131072,
      tie_word_embeddings: true,
    },
  },
  {
    name: 'Qwen2.5-3B',
    json: {
      model_type: 'qwen2',
      hidden_size: 2048,
      intermediate_size: 11008,
      num_hidden_layers: 36,
      num_attention_heads: 16,
      num_key_value_heads: 2,
      vocab_size: 151936,
      max_position_embeddings: 32768,
      tie_word_embeddings: true,
    },
  },
  {
    name: 'Llama-3.2-3B',
    json: {
      model_type: 'llama',
      hidden_size: 3072,
      intermediate_size: 8192,
      num_hidden_layers: 28,
      num_attention_heads: 24,
      num_key_value_heads: 8,
      vocab_size: 128256,
      max_position_embeddings: 131072,
      tie_word_embeddings: true,
    },
  },
  {
    name: 'Mistral-7B-v0.1',
    json: {
      model_type: 'mistral',
      hidden_size: 4096,
      intermediate_size: 14336,
      num_hidden_layers: 32,
      num_attention_heads: 32,
      num_key_value_heads: 8,
      vocab_size: 32000,
      max_position_embeddings: 32768,
      sliding_window: 4096,
      tie_word_embeddings: false,
    },
  },
  {
    name: 'Llama-3.1-8B',
    json: {
      model_type: 'llama',
      hidden_size: 4096,
      intermediate_size: 14336,
      num_hidden_layers: 32,
      num_attention_heads: 32,
      num_key_value_heads: 8,
      vocab_size: 128256,
      max_position_embeddings: 131072,
      tie_word_embeddings: false,
    },
  },
];

class MemoryBenchError extends Error {}

function positiveNumber(name: string, text: string, integer: boolean): number {
  const value = Number(text);
  if (!(value > 0) || !Number.isFinite(value) || (integer && !Number.isInteger(value)))
    throw new MemoryBenchError(`--${name}: '${text}' is not a positive ${integer ? 'integer' : 'number'}`);
  return value;
}

function parseOptions(argv: string[]): Options | null {
  const { values } = parseArgs({
    args: argv,
    options: {
      'budget-gib': { type: 'string', default: '24' },
      seq: { type: 'string', default: '1024' },
      batch: { type: 'string', default: '1' },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) return null;
  return {
    budgetGib: positiveNumber('budget-gib', values['budget-gib'], false),
    seq: positiveNumber('seq', values.seq, true),
    batch: positiveNumber('batch', values.batch, true),
  };
}

interface AllocationCounter {
  readonly current: number;
  readonly peak: number;
}

/**
 * Counts the bytes `backend` holds: allocate adds, release subtracts, views share memory and add
 * nothing. Sizes come from the typed arrays themselves, so the count is what the process holds.
 */
function countAllocations(backend: ReferenceBackend): AllocationCounter {
  const sizes = new Map<DeviceBuffer, number>();
  const counter = { current: 0, peak: 0 };
  const allocate = backend.allocate.bind(backend);
  const release = backend.release.bind(backend);
  backend.allocate = (dtype: DType, length: number) => {
    const buffer = allocate(dtype, length);
    const bytes = backend.elements(buffer).byteLength;
    sizes.set(buffer, bytes);
    counter.current += bytes;
    counter.peak = Math.max(counter.peak, counter.current);
    return buffer;
  };
  backend.release = (buffer: DeviceBuffer) => {
    release(buffer);
    counter.current -= sizes.get(buffer) ?? 0;
    sizes.delete(buffer);
  };
  return counter;
}

/** Base weights as loadHfWeights returns them, one fp32 host array per tensor; the values do not matter. */
function hostWeights(config: ModelConfig, random: Random): Map<string, HostTensor> {
  const weights = new Map<string, HostTensor>();
  for (const { name, shape } of baseParameterShapes(config)) {
    const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
    const centre = name.endsWith('norm.weight') ? 1 : 0;
    for (let i = 0; i < data.length; i++) data[i] = centre + 0.02 * random.normal();
    weights.set(name, { shape, data });
  }
  return weights;
}

interface Measurement {
  readonly backend: string;
  /** Bytes held once the model is created, with the host copies of the weights still alive. */
  readonly load: number;
  /** The most bytes the back end held at once, through one optimizer step. */
  readonly step: number;
}

/** Creates the model as fineTune does and runs one optimizer step on random tokens, counting bytes. */
async function measure(
  backendName: string,
  shape: MeasuredShape,
  method: TrainingMethod,
): Promise<Measurement> {
  const backend = createBackend(backendName);
  if (!(backend instanceof ReferenceBackend))
    throw new MemoryBenchError(`back end "${backend.name}" does not keep its buffers in host typed arrays`);
  const counter = countAllocations(backend);
  const { config, batch, seq } = shape;
  const random = Random.fromSeed(1);
  const weights = hostWeights(config, random);
  let hostBytes = 0;
  for (const tensor of weights.values()) hostBytes += tensor.data.byteLength;
  const model = LlamaModel.create(backend, config, method, { weights, random });
  // fineTune hands loadHfWeights' map straight to create: its copies live until create returns.
  const load = counter.peak + hostBytes;
  const examples: TokenizedExample[] = Array.from({ length: batch }, () => ({
    tokens: Int32Array.from({ length: seq }, () => random.below(config.vocabSize)),
    lossWeights: new Float32Array(seq).fill(1),
  }));
  const run = new TrainingRun(model, examples, {
    ...DEFAULT_TRAINING,
    padToken: 0,
    epochs: 1,
    batchSize: batch,
    warmupRatio: 0,
  });
  await run.step();
  return { backend: backend.name, load, step: counter.peak };
}

/** Rotary table rows after a pass of `tokens`: LlamaModel starts at min(max positions, 256) and at least doubles. */
function ropePositions(config: ModelConfig, tokens: number): number {
  const initial = Math.min(config.maxPositionEmbeddings, 256);
  return tokens <= initial ? initial : Math.max(tokens, 2 * initial);
}

/**
 * Elements the model's workspace holds per token (N = B * T rows) once a step has run, read off
 * llama.ts, layers/decoder.ts and layers/linear.ts. Nothing is recomputed in backward, so every
 * layer keeps its activations, and scratch buffers are shared by name, so they count once.
 */
function elementsPerToken(config: ModelConfig, method: TrainingMethod): { layers: number; rest: number } {
  const { hiddenSize: C, intermediateSize: I, numHeads: NH, headDim: HD, numKvHeads: NKV } = config;
  const Q = NH * HD;
  const KV = NKV * HD;
  const rank = method.kind === 'lora' ? method.rank : 0;
  const loraProjections = method.kind === 'lora' ? loraTargets(method).length : 0;
  // Per layer, for backward: its input, norm1, mid, norm2 (C); rstd1, rstd2 (1); q after RoPE and
  // the attention output (Q); its own k, v (KV); logSumExp (NH); gate, up, swiglu (I); x A^T (rank)
  // per LoRA projection.
  const perLayer = 4 * C + 2 + 2 * Q + 2 * KV + NH + 3 * I + loraProjections * rank;
  // Backward scratch shared by the layers: d.swiglu, d.gate, d.up (I); d.attention, d.q (Q); d.k, d.v (KV).
  const decoderScratch = 3 * I + 2 * Q + 2 * KV;
  // The head: the last layer's output, the shared projection, the final norm, d.norm, d.residual (C);
  // final rstd, losses, loss weights (1); logits (V), which backward overwrites with their gradient.
  const head = 5 * C + 3 + config.vocabSize;
  // LoRA's backward scratch: d.lora-hidden (rank) and d.lora-input (the widest input), the latter
  // allocated with any LoRA but used only with dropout.
  const lora = method.kind === 'lora' ? rank + Math.max(C, I, Q) : 0;
  // i32: tokens, targets, predictions, positions, window start, window end.
  const indices = 6;
  return { layers: config.numLayers * perLayer, rest: decoderScratch + head + lora + indices };
}

interface Prediction {
  readonly frozen: number;
  readonly trainable: number;
  /** Bytes once the model is created, with fp32 host copies of the base weights alive. */
  readonly load: number;
  /** Peak bytes through one optimizer step. */
  readonly step: number;
  /** The largest single typed array, in elements, and what it holds. */
  readonly largest: { readonly name: string; readonly elements: number };
}

/**
 * The formula: parameters are counted from the engine's own specs; each buffer is 4 bytes per element.
 *   load = 4 (frozen + 2 trainable + base + HD P0)
 *   step = 4 (frozen + 4 trainable + HD P + 1 + N (L perLayer + rest))
 * trainable counts value and gradient at load, plus AdamW's m and v in a step; base is every base
 * weight as the host loaded it; P0, P rotary positions (cos and sin, HD / 2 each); 1 the clipping
 * scratch.
 */
function predict(config: ModelConfig, method: TrainingMethod, batch: number, seq: number): Prediction {
  let frozen = 0;
  let trainable = 0;
  for (const spec of parameterSpecs(config, method)) {
    const size = spec.shape.reduce((a, b) => a * b, 1);
    if (spec.trainable) trainable += size;
    else frozen += size;
  }
  const shapes = baseParameterShapes(config);
  let base = 0;
  let largestTensor = 0;
  for (const { shape } of shapes) {
    const size = shape.reduce((a, b) => a * b, 1);
    base += size;
    largestTensor = Math.max(largestTensor, size);
  }
  const tokens = batch * seq;
  const perToken = elementsPerToken(config, method);
  const rope = config.headDim * ropePositions(config, seq);
  const initialRope = config.headDim * ropePositions(config, 0);
  const load = BYTES_PER_ELEMENT * (frozen + 2 * trainable + base + initialRope);
  const step =
    BYTES_PER_ELEMENT * (frozen + 4 * trainable + rope + 1 + tokens * (perToken.layers + perToken.rest));
  const candidates = [
    { name: 'frozen parameter buffer', elements: frozen },
    { name: 'trainable parameter buffer', elements: trainable },
    { name: 'logits', elements: tokens * config.vocabSize },
    { name: 'largest host tensor', elements: largestTensor },
  ];
  const largest = candidates.reduce((a, b) => (b.elements > a.elements ? b : a));
  return { frozen, trainable, load, step, largest };
}

function describeLora(method: TrainingMethod): string {
  if (method.kind !== 'lora') return method.kind;
  return `rank ${method.rank}, alpha ${method.alpha} on ${loraTargets(method).join(', ')}`;
}

function mib(bytes: number): string {
  return (bytes / MIB).toFixed(3);
}

function gib(bytes: number): string {
  return (bytes / GIB).toFixed(2);
}

function relativeError(predicted: number, measured: number): number {
  return (predicted - measured) / measured;
}

function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, column) =>
        column === 0 ? cell.padEnd(widths[column] ?? 0) : cell.padStart(widths[column] ?? 0),
      )
      .join('  ');
  return [line(header), line(widths.map((width) => '-'.repeat(width))), ...rows.map(line)].join('\n');
}

/** Checks the formula on every small shape and method; returns the largest relative error. */
async function checkFormula(): Promise<number> {
  const rows: string[][] = [];
  let worst = 0;
  for (const shape of MEASURED) {
    for (const name of METHOD_NAMES) {
      const method = METHODS[name];
      const measured = await measure('native', shape, method);
      const predicted = predict(shape.config, method, shape.batch, shape.seq);
      const stepError = relativeError(predicted.step, measured.step);
      const loadError = relativeError(predicted.load, measured.load);
      worst = Math.max(worst, Math.abs(stepError), Math.abs(loadError));
      rows.push([
        shape.label,
        name,
        `${shape.batch}x${shape.seq}`,
        String(predicted.trainable),
        mib(measured.step),
        mib(predicted.step),
        `${(stepError * 100).toFixed(3)}%`,
        mib(measured.load),
        mib(predicted.load),
        `${(loadError * 100).toFixed(3)}%`,
      ]);
    }
  }
  console.log(
    table(
      [
        'measured on native',
        'method',
        'BxT',
        'trainable',
        'step MiB',
        'predicted',
        'error',
        'load MiB',
        'predicted',
        'error',
      ],
      rows,
    ),
  );
  return worst;
}

/** Both back ends allocate through ReferenceBackend; checks that they hold the same bytes on one shape. */
async function compareBackends(shape: MeasuredShape): Promise<string> {
  const results: string[] = [];
  for (const name of METHOD_NAMES) {
    const native = await measure('native', shape, METHODS[name]);
    const reference = await measure('reference', shape, METHODS[name]);
    const same = native.load === reference.load && native.step === reference.step;
    results.push(
      `${name} ${same ? 'same' : 'DIFFERENT'} (${native.backend} ${native.step} B, ${reference.backend} ${reference.step} B)`,
    );
  }
  return `${shape.label}: ${results.join('; ')}`;
}

/** Whether a typed array of this length can exist: V8 refuses longer ones before allocating anything. */
function typedArrayRefusal(length: number): string {
  try {
    if (length <= TYPED_ARRAY_MAX_LENGTH) return 'within the limit (not allocated here)';
    new Float32Array(length);
    return 'allocated';
  } catch (error) {
    return `${(error as Error).name}: ${(error as Error).message}`;
  }
}

function fits(prediction: Prediction, baseline: number, budget: number): string {
  if (prediction.largest.elements > TYPED_ARRAY_MAX_LENGTH) return 'no (buffer)';
  return Math.max(prediction.load, prediction.step) + baseline <= budget ? 'yes' : 'no';
}

function reportArchitectures(options: Options, baseline: number): void {
  const budget = options.budgetGib * GIB;
  const largestFitting = new Map<MethodName, { name: string; parameters: number }>();
  const rows: string[][] = [];
  const buffers: string[] = [];
  for (const { name, json } of ARCHITECTURES) {
    const config = parseModelConfig(json, `${name}/config.json`);
    const lora = predict(config, METHODS.lora, options.batch, options.seq);
    const full = predict(config, METHODS.full, options.batch, options.seq);
    const parameters = full.trainable;
    const row = [name, `${(parameters / 1e9).toFixed(2)}B`];
    for (const [method, prediction] of [
      ['lora', lora],
      ['full', full],
    ] as const) {
      // fineTune refuses a sequence longer than the model's positions.
      const verdict =
        options.seq > config.maxPositionEmbeddings ? 'no (seq)' : fits(prediction, baseline, budget);
      const best = largestFitting.get(method);
      if (verdict === 'yes' && (!best || parameters > best.parameters))
        largestFitting.set(method, { name, parameters });
      row.push(gib(prediction.load + baseline), gib(prediction.step + baseline), verdict);
    }
    rows.push(row);
    buffers.push(
      `  ${name}: LoRA ${lora.largest.name} ${lora.largest.elements}, full ${full.largest.name} ${full.largest.elements} elements` +
        (Math.max(lora.largest.elements, full.largest.elements) > TYPED_ARRAY_MAX_LENGTH
          ? ' (over the limit)'
          : ''),
    );
  }
  console.log(
    table(
      [
        'model',
        'parameters',
        'LoRA load GiB',
        'LoRA step GiB',
        'LoRA fits',
        'full load GiB',
        'full step GiB',
        'full fits',
      ],
      rows,
    ),
  );
  console.log('\nLargest single typed array per model:');
  console.log(buffers.join('\n'));
  console.log('');
  for (const method of METHOD_NAMES) {
    const model = largestFitting.get(method)?.name ?? 'none of the listed models';
    console.log(
      `${method === 'lora' ? 'LoRA' : 'full fine-tuning'}: the largest listed model that fits in ${options.budgetGib} GiB is ${model}, on both back ends`,
    );
  }
}

async function main(argv: string[]): Promise<number> {
  let options: Options | null;
  try {
    options = parseOptions(argv);
  } catch (error) {
    console.error(`${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  if (!options) {
    console.log(USAGE);
    return 0;
  }
  // The baseline is this process with the engine and the native addon loaded, before any buffer.
  const backendName = createBackend('native').name;
  const baseline = process.memoryUsage().rss;

  console.log(
    `Back ends: reference and native (here: ${backendName}). NativeBackend extends ReferenceBackend and keeps the same Float32Array/Int32Array host buffers, overriding kernels only, so both need the same memory.`,
  );
  console.log(
    'Method: a counter wraps allocate and release (views share memory and count nothing); one optimizer step (forward, backward, clipping, AdamW) runs on random tokens.\n',
  );
  const worst = await checkFormula();
  console.log(`\nLargest relative error of the formula: ${(worst * 100).toFixed(3)}%`);
  console.log(`Reference and native, measured alike: ${await compareBackends(SMALLEST)}`);
  console.log(
    [
      '',
      'Formula (bytes; N = batch x seq tokens, L layers, C hidden, I intermediate, Q = heads x head dim, KV = kv heads x head dim, V vocabulary):',
      '  step = 4 frozen + 16 trainable (value, gradient, AdamW m and v)',
      '       + 4 N L (4C + 2Q + 2KV + heads + 3I + 2 + LoRA projections x rank)   kept per layer for backward',
      '       + 4 N V                                                               logits, reused for their gradient',
      '       + 4 N (5C + 3I + 2Q + 2KV + 9 [+ rank + max(C, I, Q) with LoRA])     head and shared backward scratch',
      '       + 4 (head dim x rotary positions + 1)',
      '  load = 4 frozen + 8 trainable + 4 base (the fp32 host copy of every base weight) + 4 head dim x min(max positions, 256)',
      '  process = max(load, step) + the baseline RSS',
    ].join('\n'),
  );
  console.log(
    "  not counted: the tokenized data set (8 bytes per token), the native GEMM and attention kernels' per-thread scratch (bounded, tens of MiB at most), V8's heap growth",
  );
  console.log(
    `\nBaseline RSS (Node, tsx, the engine and the native addon, nothing allocated): ${mib(baseline)} MiB`,
  );
  console.log(
    `Typed-array limit (Node ${process.versions.node}, V8 ${process.versions.v8}): ${TYPED_ARRAY_MAX_LENGTH} elements per Float32Array; new Float32Array(${TYPED_ARRAY_MAX_LENGTH + 1}) -> ${typedArrayRefusal(TYPED_ARRAY_MAX_LENGTH + 1)}`,
  );
  console.log(
    `\nReal architectures at batch ${options.batch} x seq ${options.seq}, LoRA ${describeLora(METHODS.lora)}; budget ${options.budgetGib} GiB. GiB include the baseline; a model fits when max(load, step) does; "no (buffer)": a buffer over the typed-array limit:\n`,
  );
  reportArchitectures(options, baseline);
  return worst < 0.02 ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    console.error(error instanceof MemoryBenchError ? error.message : error);
    process.exitCode = 1;
  },
);

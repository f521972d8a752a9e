import { mkdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { EngineError } from '../engine/errors';
import type { ModelConfig } from './config';
import { MalformedModelFileError, UnsupportedModelError } from './errors';
import type { LlamaModel } from './llama';
import { LINEAR_MODULES, type LoraMethod, loraTargets } from './method';
import {
  formatShape,
  type HostTensor,
  readSafetensors,
  writeAtomically,
  writeSafetensors,
} from './safetensors';
import { loraParameterShapes } from './structure';

export const ADAPTER_CONFIG_FILE = 'adapter_config.json';
export const ADAPTER_WEIGHTS_FILE = 'adapter_model.safetensors';
/** PEFT's PeftModelForCausalLM wraps the transformers model twice: `base_model` (LoraModel), then `model`. */
export const PEFT_PREFIX = 'base_model.model.';

/** A LoRA adapter as the engine uses it: LlamaModel.create takes `method` and `tensors` as they are. */
export interface LoraAdapter {
  readonly method: LoraMethod;
  /** lora_A (r, in) and lora_B (out, r) by name less PEFT's `base_model.model.` prefix. */
  readonly tensors: Map<string, HostTensor>;
  readonly baseModelNameOrPath: string | null;
}

export interface SaveLoraAdapterOptions {
  /** Written as `base_model_name_or_path`: the Hub id or the path a loader finds the base model at. */
  readonly baseModelNameOrPath: string | null;
}

/**
 * Writes a LoRA model's adapter in PEFT's layout: `adapter_config.json` and
 * `adapter_model.safetensors` (F32, keys `base_model.model.<parameter name>`), each replaced
 * atomically. PEFT, vLLM and LoRAX load the directory as an adapter of the base model.
 */
export async function saveLoraAdapter(
  dir: string,
  model: LlamaModel,
  options: SaveLoraAdapterOptions,
): Promise<void> {
  const method = requireLora(model, 'saving a LoRA adapter');
  const tensors = await readLoraTensors(model);
  await mkdir(dir, { recursive: true });
  await writeSafetensors(
    join(dir, ADAPTER_WEIGHTS_FILE),
    new Map([...tensors].map(([name, tensor]) => [`${PEFT_PREFIX}${name}`, tensor])),
    { metadata: { format: 'pt' } },
  );
  const text = formatAdapterConfig(method, options.baseModelNameOrPath);
  await writeAtomically(join(dir, ADAPTER_CONFIG_FILE), async (handle) => {
    await handle.writeFile(text, 'utf8');
  });
}

/** The LoRA tensors' current values, read from the model's buffers, by name less PEFT's prefix. */
export async function readLoraTensors(model: LlamaModel): Promise<Map<string, HostTensor>> {
  const tensors = new Map<string, HostTensor>();
  for (const { name, shape } of loraParameterShapes(model.config, model.method)) {
    const data = await model.backend.read(model.parameters.get(name).value);
    if (!(data instanceof Float32Array)) throw new EngineError(`parameter "${name}" did not read as f32`);
    tensors.set(name, { shape, data });
  }
  return tensors;
}

/**
 * adapter_config.json as PEFT's save_pretrained writes it for a causal LM: `json.dumps(config,
 * indent=2, sort_keys=True)` (ASCII only, floats with a decimal point, no final newline), with
 * `inference_mode` true and `target_modules` the sorted module names (`all-linear` expanded, as
 * PEFT records it once the model is built). Only fields every PEFT release since DoRA (0.9) knows
 * are written, at their defaults, so that older releases load it too.
 */
export function formatAdapterConfig(method: LoraMethod, baseModelNameOrPath: string | null): string {
  const fields: Record<string, string> = {
    alpha_pattern: '{}',
    auto_mapping: 'null',
    base_model_name_or_path: pythonJson(baseModelNameOrPath),
    bias: '"none"',
    fan_in_fan_out: 'false',
    inference_mode: 'true',
    init_lora_weights: 'true',
    layers_pattern: 'null',
    layers_to_transform: 'null',
    lora_alpha: pythonNumber(method.alpha),
    lora_dropout: pythonFloat(method.dropout),
    modules_to_save: 'null',
    peft_type: '"LORA"',
    r: pythonNumber(method.rank),
    rank_pattern: '{}',
    revision: 'null',
    target_modules: pythonList([...loraTargets(method)].sort()),
    task_type: '"CAUSAL_LM"',
    use_dora: 'false',
    use_rslora: 'false',
  };
  const lines = Object.keys(fields)
    .sort()
    .map((key) => `  ${pythonJson(key)}: ${fields[key]}`);
  return `{\n${lines.join(',\n')}\n}`;
}

/**
 * Reads a PEFT LoRA adapter for `config`'s model and checks it: the config describes plain LoRA on
 * a causal LM over whole decoder layers (no DoRA, rsLoRA, bias training, per-module ranks, layer
 * subsets or saved modules), and the weights hold exactly the lora_A / lora_B tensors that config
 * implies, in their shapes. Errors name the file and the field or tensor.
 */
export async function readLoraAdapter(dir: string, config: ModelConfig): Promise<LoraAdapter> {
  const configFile = join(dir, ADAPTER_CONFIG_FILE);
  const { method, baseModelNameOrPath } = parseAdapterConfig(await readJson(configFile), configFile);
  const weightsFile = join(dir, ADAPTER_WEIGHTS_FILE);
  const stored = await readSafetensors(weightsFile);
  const expected = loraParameterShapes(config, method);
  const tensors = new Map<string, HostTensor>();
  for (const { name, shape } of expected) {
    const key = `${PEFT_PREFIX}${name}`;
    const tensor = stored.get(key);
    if (!tensor) {
      throw new MalformedModelFileError(`tensor ${JSON.stringify(key)} is missing`, {
        file: weightsFile,
        field: key,
      });
    }
    if (formatShape(tensor.shape) !== formatShape(shape)) {
      throw new MalformedModelFileError(
        `tensor ${JSON.stringify(key)} has shape ${formatShape(tensor.shape)}, expected ${formatShape(shape)}`,
        { file: weightsFile, field: key },
      );
    }
    tensors.set(name, tensor);
  }
  const unexpected = [...stored.keys()].find(
    (key) => !key.startsWith(PEFT_PREFIX) || !tensors.has(key.slice(PEFT_PREFIX.length)),
  );
  if (unexpected !== undefined) {
    throw new MalformedModelFileError(
      `tensor ${JSON.stringify(unexpected)} is not a LoRA weight of ${ADAPTER_CONFIG_FILE}'s target modules in this model`,
      { file: weightsFile, field: unexpected },
    );
  }
  return { method, tensors, baseModelNameOrPath };
}

/** Reads the LoRA method and base model named by an adapter_config.json object. */
export function parseAdapterConfig(
  json: unknown,
  file = ADAPTER_CONFIG_FILE,
): { method: LoraMethod; baseModelNameOrPath: string | null } {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new MalformedModelFileError(`must hold a JSON object, not ${describe(json)}`, { file });
  }
  const raw = json as Record<string, unknown>;
  const malformed = (field: string, problem: string) =>
    new MalformedModelFileError(`"${field}" ${problem}`, { file, field });
  const unsupported = (field: string, problem: string) =>
    new UnsupportedModelError(`"${field}" ${problem}`, { file, field });

  if (raw.peft_type === undefined) throw malformed('peft_type', 'is missing');
  if (raw.peft_type !== 'LORA') {
    throw unsupported('peft_type', `${describe(raw.peft_type)} is not supported; supported: "LORA"`);
  }
  if (raw.task_type !== 'CAUSAL_LM') {
    throw unsupported('task_type', `${describe(raw.task_type)} is not supported; supported: "CAUSAL_LM"`);
  }

  const rank = raw.r;
  if (rank === undefined) throw malformed('r', 'is missing');
  if (!Number.isSafeInteger(rank) || (rank as number) < 1) {
    throw malformed('r', `must be a positive integer, not ${describe(rank)}`);
  }
  const alpha = raw.lora_alpha;
  if (alpha === undefined) throw malformed('lora_alpha', 'is missing');
  if (typeof alpha !== 'number' || !(alpha > 0) || !Number.isFinite(alpha)) {
    throw malformed('lora_alpha', `must be a positive number, not ${describe(alpha)}`);
  }
  const dropout = raw.lora_dropout ?? 0;
  if (typeof dropout !== 'number' || !(dropout >= 0 && dropout < 1)) {
    throw malformed('lora_dropout', `must be a number in [0, 1), not ${describe(dropout)}`);
  }

  const targets = raw.target_modules;
  let targetModules: readonly string[] | 'all-linear';
  if (targets === undefined || targets === null) {
    throw malformed('target_modules', 'is missing');
  } else if (targets === 'all-linear') {
    targetModules = 'all-linear';
  } else if (typeof targets === 'string') {
    throw unsupported(
      'target_modules',
      `${describe(targets)} is not supported: a pattern; supported: a list of ${LINEAR_MODULES.join(', ')}, or "all-linear"`,
    );
  } else if (!Array.isArray(targets) || targets.length === 0) {
    throw malformed('target_modules', `must be a non-empty list of module names, not ${describe(targets)}`);
  } else {
    for (const target of targets) {
      if (typeof target !== 'string') {
        throw malformed('target_modules', `must be a list of module names, not ${describe(targets)}`);
      }
      if (!(LINEAR_MODULES as readonly string[]).includes(target)) {
        throw unsupported(
          'target_modules',
          `entry ${describe(target)} is not supported; supported: ${LINEAR_MODULES.join(', ')}`,
        );
      }
    }
    targetModules = targets as string[];
  }

  if ((raw.bias ?? 'none') !== 'none') {
    throw unsupported('bias', `${describe(raw.bias)} is not supported; supported: "none"`);
  }
  // Each of these changes what the adapter computes or which weights it holds, beyond plain LoRA.
  const offWhenTrue = ['use_dora', 'use_rslora', 'fan_in_fan_out', 'lora_bias', 'use_qalora'];
  for (const field of offWhenTrue) {
    if (raw[field] === true) throw unsupported(field, 'true is not supported');
  }
  const offWhenSet = [
    'layers_to_transform',
    'modules_to_save',
    'rank_pattern',
    'alpha_pattern',
    'layer_replication',
    'exclude_modules',
    'target_parameters',
    'trainable_token_indices',
  ];
  for (const field of offWhenSet) {
    if (!isUnset(raw[field])) throw unsupported(field, `${describe(raw[field])} is not supported`);
  }

  const base = raw.base_model_name_or_path ?? null;
  if (base !== null && typeof base !== 'string') {
    throw malformed('base_model_name_or_path', `must be a string, not ${describe(base)}`);
  }
  return {
    method: { kind: 'lora', rank: rank as number, alpha, dropout, targetModules },
    baseModelNameOrPath: base,
  };
}

/**
 * The base weights with each adapted projection's weight replaced by W' = W + (alpha / r) B A,
 * W (out, in), B (out, r), A (r, in), summed in float64 and rounded to fp32 once. Every other
 * tensor is passed through as the same object.
 */
export function mergeLora(
  config: ModelConfig,
  weights: ReadonlyMap<string, HostTensor>,
  adapter: Pick<LoraAdapter, 'method' | 'tensors'>,
): Map<string, HostTensor> {
  const { method, tensors } = adapter;
  const scale = method.alpha / method.rank;
  const merged = new Map(weights);
  const shapes = new Map(loraParameterShapes(config, method).map(({ name, shape }) => [name, shape]));
  for (const [name, shape] of shapes) {
    if (!name.endsWith('.lora_A.weight')) continue;
    const path = name.slice(0, -'.lora_A.weight'.length);
    const a = requireTensor(tensors, name, shape, 'the adapter');
    const b = requireTensor(
      tensors,
      `${path}.lora_B.weight`,
      shapes.get(`${path}.lora_B.weight`)!,
      'the adapter',
    );
    const [R, inFeatures] = shape as [number, number];
    const outFeatures = b.shape[0]!;
    const w = requireTensor(weights, `${path}.weight`, [outFeatures, inFeatures], 'the base weights');
    const data = new Float32Array(outFeatures * inFeatures);
    const row = new Float64Array(inFeatures);
    for (let o = 0; o < outFeatures; o++) {
      // row (in) = sum over r of B[o, r] * A[r, :]
      row.fill(0);
      for (let r = 0; r < R; r++) {
        const coefficient = b.data[o * R + r]!;
        const aRow = r * inFeatures;
        for (let i = 0; i < inFeatures; i++) row[i]! += coefficient * a.data[aRow + i]!;
      }
      const wRow = o * inFeatures;
      for (let i = 0; i < inFeatures; i++) data[wRow + i] = w.data[wRow + i]! + scale * row[i]!;
    }
    merged.set(`${path}.weight`, { shape: w.shape, data });
  }
  return merged;
}

function requireTensor(
  tensors: ReadonlyMap<string, HostTensor>,
  name: string,
  shape: readonly number[],
  where: string,
): HostTensor {
  const tensor = tensors.get(name);
  if (!tensor) throw new EngineError(`${where} has no tensor "${name}"`);
  if (formatShape(tensor.shape) !== formatShape(shape)) {
    throw new EngineError(
      `tensor "${name}" of ${where} has shape ${formatShape(tensor.shape)}, expected ${formatShape(shape)}`,
    );
  }
  return tensor;
}

export function requireLora(model: LlamaModel, purpose: string): LoraMethod {
  if (model.method.kind !== 'lora') {
    throw new EngineError(`${purpose} needs a LoRA model; this one trains by method "${model.method.kind}"`);
  }
  return model.method;
}

async function readJson(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new MalformedModelFileError(`not found in ${dirname(file)}`, { file, cause: error });
    }
    throw error;
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new MalformedModelFileError(`invalid JSON: ${(error as Error).message}`, { file, cause: error });
  }
}

/** PEFT leaves these fields null, or empty when they hold a list or a mapping. */
function isUnset(value: unknown): boolean {
  if (value === undefined || value === null) return true;
  if (Array.isArray(value)) return value.length === 0;
  return typeof value === 'object' && Object.keys(value).length === 0;
}

function describe(value: unknown): string {
  return value === undefined ? 'undefined' : JSON.stringify(value);
}

/** A JSON string or null as Python's json.dumps writes it: non-ASCII characters escaped. */
function pythonJson(value: string | null): string {
  if (value === null) return 'null';
  return JSON.stringify(value).replace(
    /[\u0080-\uffff]/g,
    (character) => `\\u${character.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

function pythonList(items: readonly string[]): string {
  if (items.length === 0) return '[]';
  return `[\n${items.map((item) => `    ${pythonJson(item)}`).join(',\n')}\n  ]`;
}

/** An int stays an int; anything else is a Python float. */
function pythonNumber(value: number): string {
  return Number.isInteger(value) ? String(value) : pythonFloat(value);
}

/** Python's repr of a float: `0.0`, `0.05`, `1e-05`, `1e+16` (shortest digits that round-trip, as JavaScript's). */
function pythonFloat(value: number): string {
  const magnitude = Math.abs(value);
  if (value !== 0 && (magnitude < 1e-4 || magnitude >= 1e16)) {
    return value.toExponential().replace(/e([+-])(\d)$/, 'e$10$2');
  }
  const text = String(value);
  return Number.isInteger(value) ? `${text}.0` : text;
}

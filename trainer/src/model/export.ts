import { access, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { EngineError } from '../engine/errors';
import { MalformedModelFileError } from './errors';
import { writeHfModel } from './hf-weights';
import type { LlamaModel } from './llama';
import { mergeLora, readLoraTensors, requireLora } from './peft';
import { type HostTensor, writeAtomically } from './safetensors';
import { baseParameterShapes } from './structure';

/** Tokenizer files every model directory the engine trains from has. */
export const REQUIRED_TOKENIZER_FILES = ['tokenizer.json', 'tokenizer_config.json'] as const;
/** Files copied when the source has them: the slow tokenizer's model, templates, generation defaults. */
export const OPTIONAL_TOKENIZER_FILES = [
  'special_tokens_map.json',
  'added_tokens.json',
  'tokenizer.model',
  'chat_template.jinja',
  'generation_config.json',
] as const;

export interface ExportOptions {
  /** The base model's directory, whose tokenizer and generation files the export carries over. */
  readonly sourceDir: string;
}

/**
 * Writes a full or partial fine-tune as a Hugging Face model directory: every base tensor at its
 * current value (trained or frozen, read from the model), config.json, and the source's tokenizer
 * files. A LoRA model exports through {@link exportMergedModel} or as an adapter instead.
 */
export async function exportModel(dir: string, model: LlamaModel, options: ExportOptions): Promise<void> {
  if (model.method.kind === 'lora') {
    throw new EngineError(
      'exporting a LoRA model as a full model merges its adapter: use exportMergedModel, or saveLoraAdapter for the adapter alone',
    );
  }
  checkDistinct(dir, options.sourceDir);
  await writeModelDirectory(dir, model, await readBaseWeights(model), options.sourceDir);
}

/**
 * Writes a LoRA model as a plain Hugging Face model with each adapter merged into its base weight:
 * W' = W + (alpha / r) B A (see mergeLora), plus config.json and the source's tokenizer files.
 */
export async function exportMergedModel(
  dir: string,
  model: LlamaModel,
  options: ExportOptions,
): Promise<void> {
  const method = requireLora(model, 'exporting a merged model');
  checkDistinct(dir, options.sourceDir);
  const merged = mergeLora(model.config, await readBaseWeights(model), {
    method,
    tensors: await readLoraTensors(model),
  });
  await writeModelDirectory(dir, model, merged, options.sourceDir);
}

/** The base model's tensors at their current values, by Hugging Face name (no lm_head when tied). */
export async function readBaseWeights(model: LlamaModel): Promise<Map<string, HostTensor>> {
  const tensors = new Map<string, HostTensor>();
  for (const { name, shape } of baseParameterShapes(model.config)) {
    const data = await model.backend.read(model.parameters.get(name).value);
    if (!(data instanceof Float32Array)) throw new EngineError(`parameter "${name}" did not read as f32`);
    tensors.set(name, { shape, data });
  }
  return tensors;
}

async function writeModelDirectory(
  dir: string,
  model: LlamaModel,
  tensors: ReadonlyMap<string, HostTensor>,
  sourceDir: string,
): Promise<void> {
  // Checked first, so that a source without a tokenizer leaves no half-written model behind.
  const copies: string[] = [];
  for (const name of REQUIRED_TOKENIZER_FILES) {
    const file = join(sourceDir, name);
    if (!(await exists(file))) {
      throw new MalformedModelFileError(`not found in ${sourceDir}; an exported model needs it`, { file });
    }
    copies.push(name);
  }
  for (const name of OPTIONAL_TOKENIZER_FILES) {
    if (await exists(join(sourceDir, name))) copies.push(name);
  }
  await writeHfModel(dir, model.config, tensors);
  for (const name of copies) {
    const bytes = await readFile(join(sourceDir, name));
    await writeAtomically(join(dir, name), async (handle) => {
      await handle.writeFile(bytes);
    });
  }
}

/** Writing over the source would replace the base model the export was trained from. */
function checkDistinct(dir: string, sourceDir: string): void {
  if (resolve(dir) === resolve(sourceDir)) {
    throw new EngineError(`cannot export into ${sourceDir}: it is the source model's directory`);
  }
}

async function exists(file: string): Promise<boolean> {
  return access(file).then(
    () => true,
    () => false,
  );
}

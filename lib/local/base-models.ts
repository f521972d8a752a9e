import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** A base model in Hugging Face layout on this machine, registered on start when it is not yet. */
export interface LocalBaseModel {
  readonly id: string;
  readonly dir: string;
}

/** The small model committed with the project for `npm run demo`, pre-trained by demo/pretrain. */
export const DEMO_BASE_MODEL: LocalBaseModel = {
  id: 'whetstone-demo-5m',
  dir: resolve(__dirname, '..', '..', 'demo', 'base-model'),
};

/** The files of a model directory that go to the bucket, with their content types; those present. */
const MODEL_FILES: Readonly<Record<string, string>> = {
  'config.json': 'application/json',
  'generation_config.json': 'application/json',
  'model.safetensors': 'application/octet-stream',
  'model.safetensors.index.json': 'application/json',
  'tokenizer.json': 'application/json',
  'tokenizer_config.json': 'application/json',
  'special_tokens_map.json': 'application/json',
  'README.md': 'text/markdown',
};

export type LocalBaseModelOutcome = 'registered' | 'already registered' | 'no directory';

/**
 * Uploads the model's files to `models/{id}/` and registers them with the same service the
 * `POST /v1/whetstone/models` route runs. A model already registered is left as it is, so
 * restarts do nothing; a start that died between upload and registration uploads again. A
 * directory without `config.json` (a checkout without the model) is skipped.
 */
export async function registerLocalBaseModel(
  model: LocalBaseModel,
  now: number,
): Promise<LocalBaseModelOutcome> {
  if (!existsSync(join(model.dir, 'config.json'))) return 'no directory';
  const { stores } = await import('../../lambdas/runtime/dependencies');
  const { registerBaseModel } = await import('../../lambdas/models/service');
  const { ConflictError } = await import('../core/errors');
  const { objectKeys } = await import('../core/storage/keys');
  if (await stores.models.getBase(model.id)) return 'already registered';
  const prefix = objectKeys.model(model.id);
  for (const [file, contentType] of Object.entries(MODEL_FILES)) {
    const path = join(model.dir, file);
    if (existsSync(path)) await stores.objects.put(`${prefix}${file}`, readFileSync(path), contentType);
  }
  try {
    await registerBaseModel(stores, { id: model.id }, now);
  } catch (error) {
    // Another process registered it between the look and the write: that is the wanted end.
    if (error instanceof ConflictError) return 'already registered';
    throw error;
  }
  return 'registered';
}

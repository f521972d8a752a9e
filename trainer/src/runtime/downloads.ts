import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { JobSpec } from '../../../lib/core/jobs';
import { TrainerInputError } from './errors';
import { folderSha256, type HashedFile } from './manifest';
import type { ObjectsByUri } from './objects';

/** The job's inputs as local files, with what the manifest records of them. */
export interface LocalInputs {
  readonly modelDir: string;
  readonly adapterDir?: string;
  readonly trainFile: string;
  readonly validationFile?: string;
  readonly model: { readonly files: HashedFile[] };
  readonly parent: { readonly uri: string; readonly sha256: string } | null;
  readonly trainHash: { readonly bytes: number; readonly sha256: string };
  readonly validationHash: { readonly bytes: number; readonly sha256: string } | null;
}

/** Streams the base model (and a parent's adapter or model) and the data files into `dir`, hashing each. */
export async function downloadInputs(
  objects: ObjectsByUri,
  spec: JobSpec,
  dir: string,
): Promise<LocalInputs> {
  const modelUri = folderUri(spec.model.uri);
  const listed = await objects.list(modelUri);
  if (listed.length === 0) {
    throw new TrainerInputError(`The base model ${spec.model.base} has no files under ${modelUri}`, {
      code: 'invalid_base_model',
      param: 'model',
    });
  }
  let modelDir = join(dir, 'model');
  const files = await downloadFolder(objects, listed, modelDir);

  let adapterDir: string | undefined;
  let parent: LocalInputs['parent'] = null;
  if (spec.model.parent_uri) {
    const parentUri = folderUri(spec.model.parent_uri);
    const parentListed = await objects.list(parentUri);
    if (parentListed.length === 0) {
      throw new TrainerInputError(`The model ${spec.model.requested} has no files under ${parentUri}`, {
        code: 'invalid_base_model',
        param: 'model',
      });
    }
    const parentDir = join(dir, 'parent');
    const parentFiles = await downloadFolder(objects, parentListed, parentDir);
    if (parentFiles.some((file) => file.path === 'adapter_config.json')) adapterDir = parentDir;
    else modelDir = parentDir;
    parent = { uri: parentUri, sha256: folderSha256(parentFiles) };
  }

  const trainFile = join(dir, 'data', 'training.jsonl');
  const trainHash = await objects.download(spec.training_file.uri, trainFile, spec.training_file.bytes);
  let validationFile: string | undefined;
  let validationHash: LocalInputs['validationHash'] = null;
  if (spec.validation_file) {
    validationFile = join(dir, 'data', 'validation.jsonl');
    validationHash = await objects.download(
      spec.validation_file.uri,
      validationFile,
      spec.validation_file.bytes,
    );
  }
  await mkdir(modelDir, { recursive: true });
  return {
    modelDir,
    adapterDir,
    trainFile,
    validationFile,
    model: { files },
    parent,
    trainHash,
    validationHash,
  };
}

async function downloadFolder(
  objects: ObjectsByUri,
  listed: Awaited<ReturnType<ObjectsByUri['list']>>,
  dir: string,
): Promise<HashedFile[]> {
  const files: HashedFile[] = [];
  for (const object of listed) {
    const parts = object.relative.split('/');
    if (object.relative === '' || parts.some((part) => part === '' || part === '.' || part === '..'))
      continue;
    const { bytes, sha256 } = await objects.download(object.uri, join(dir, ...parts), object.bytes);
    files.push({ path: object.relative, bytes, sha256 });
  }
  return files;
}

/** A folder URI with its trailing slash. */
export function folderUri(uri: string): string {
  return uri.endsWith('/') ? uri : `${uri}/`;
}

/** Total size of the files, in MB with one decimal. */
export function megabytes(files: readonly HashedFile[]): string {
  return (files.reduce((sum, file) => sum + file.bytes, 0) / 1e6).toFixed(1);
}

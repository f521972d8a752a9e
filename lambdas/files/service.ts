import type { FileListQuery, FileStore, ObjectStore, Page } from '../../lib/adapters';
import { validateDataset } from '../../lib/core/datasets';
import { InvalidRequestError, NotFoundError } from '../../lib/core/errors';
import { isId, newId } from '../../lib/core/ids';
import type { FileObject } from '../../lib/core/schemas';
import { objectKeys } from '../../lib/core/storage';
import { outcomeOf } from './validation';

export interface FileServiceStores {
  readonly files: FileStore;
  readonly objects: ObjectStore;
}

/**
 * Lambda's synchronous response is capped at 6 MB, base64 included; larger contents are
 * answered with a redirect to a short-lived presigned URL instead.
 */
export const INLINE_CONTENT_LIMIT_BYTES = 4 * 1024 * 1024;
const PRESIGNED_URL_SECONDS = 15 * 60;

export interface NewFile {
  readonly purpose: FileObject['purpose'];
  readonly filename: string;
  readonly content: Buffer;
}

/**
 * Validates the dataset, stores the object, then the record. The record is what makes a file
 * exist: if writing it fails the object is removed, so nothing half-made is left behind.
 */
export async function createFile(
  stores: FileServiceStores,
  team: string,
  file: NewFile,
  now: number,
): Promise<FileObject> {
  const id = newId('file', now);
  const key = objectKeys.file(team, id);
  const record: FileObject = {
    id,
    object: 'file',
    bytes: file.content.length,
    created_at: Math.floor(now / 1000),
    expires_at: null,
    filename: file.filename,
    purpose: file.purpose,
    ...outcomeOf(validateDataset(file.content)),
  };
  await stores.objects.put(key, file.content, 'application/jsonl');
  try {
    await stores.files.put(team, record);
  } catch (error) {
    await stores.objects.delete(key);
    throw error;
  }
  return record;
}

export async function getFile(
  stores: Pick<FileServiceStores, 'files'>,
  team: string,
  fileId: string,
): Promise<FileObject> {
  const file = isId('file', fileId) ? await stores.files.get(team, fileId) : undefined;
  if (!file) throw new NotFoundError(`No such File object: ${fileId}`, { param: 'file_id' });
  return file;
}

export async function listFiles(
  stores: Pick<FileServiceStores, 'files'>,
  team: string,
  query: FileListQuery,
): Promise<Page<FileObject>> {
  if (query.after !== undefined && !isId('file', query.after)) {
    throw new InvalidRequestError(`after must be a file id, not '${query.after}'.`, { param: 'after' });
  }
  return stores.files.list(team, query);
}

/** The record goes first: once it is gone the file no longer exists, whatever happens to the object. */
export async function deleteFile(stores: FileServiceStores, team: string, fileId: string): Promise<void> {
  await getFile(stores, team, fileId);
  // Of two concurrent deletes, only the one that removed the record answers that it did.
  if (!(await stores.files.delete(team, fileId))) {
    throw new NotFoundError(`No such File object: ${fileId}`, { param: 'file_id' });
  }
  await stores.objects.delete(objectKeys.file(team, fileId));
}

export type FileContent =
  | { readonly kind: 'inline'; readonly bytes: Buffer; readonly filename: string }
  | { readonly kind: 'redirect'; readonly url: string };

export async function fileContent(
  stores: FileServiceStores,
  team: string,
  fileId: string,
): Promise<FileContent> {
  const file = await getFile(stores, team, fileId);
  const key = objectKeys.file(team, fileId);
  if (file.bytes > INLINE_CONTENT_LIMIT_BYTES) {
    return {
      kind: 'redirect',
      url: await stores.objects.presignGet(key, PRESIGNED_URL_SECONDS, file.filename),
    };
  }
  const body = await stores.objects.get(key);
  if (!body) throw new NotFoundError(`The content of ${fileId} is no longer stored.`, { param: 'file_id' });
  const chunks: Buffer[] = [];
  for await (const chunk of body.stream) chunks.push(chunk as Buffer);
  return { kind: 'inline', bytes: Buffer.concat(chunks), filename: file.filename };
}

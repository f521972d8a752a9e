import type { FileStore, ObjectStore, StoredUpload, StoredUploadPart, UploadStore } from '../../lib/adapters';
import { ConflictError, InvalidRequestError, NotFoundError } from '../../lib/core/errors';
import { isId, newId } from '../../lib/core/ids';
import {
  type CreateUploadRequest,
  type FileObject,
  MAX_UPLOAD_PARTS,
  MIN_UPLOAD_PART_BYTES,
  UPLOAD_TTL_SECONDS,
  type UploadObject,
  type UploadPartObject,
} from '../../lib/core/schemas';
import { objectKeys } from '../../lib/core/storage';
import { outcomeOf, validateStoredObject } from '../files/validation';

export interface UploadServiceStores {
  readonly uploads: UploadStore;
  readonly files: FileStore;
  readonly objects: ObjectStore;
}

const seconds = (now: number) => Math.floor(now / 1000);

/**
 * How long a completing request holds its upload: Lambda's longest run. Past it the request is
 * known to have died, and the upload may be cancelled.
 */
const COMPLETION_LEASE_SECONDS = 15 * 60;

/** S3's answers to a CompleteMultipartUpload whose part list is at fault, not the service. */
const REFUSED_PART_ERRORS = ['InvalidPart', 'InvalidPartOrder', 'EntityTooSmall'] as const;

function isS3Error(error: unknown, ...names: readonly string[]): boolean {
  return error instanceof Error && names.includes(error.name);
}

/** The API's view: an upload being assembled is still `pending`; one past its hour is `expired`. */
export function toUploadObject(
  upload: StoredUpload,
  now: number,
  file: FileObject | null = null,
): UploadObject {
  const pending = upload.status === 'pending' || upload.status === 'completing';
  return {
    id: upload.id,
    object: 'upload',
    bytes: upload.bytes,
    created_at: upload.created_at,
    expires_at: upload.expires_at,
    filename: upload.filename,
    purpose: upload.purpose,
    status: pending && upload.expires_at <= seconds(now) ? 'expired' : pending ? 'pending' : upload.status,
    file,
  };
}

/**
 * Opens an S3 multipart upload at the key the finished file will have, then records it. The
 * upload is what the client holds; if recording fails, the S3 upload is aborted with it.
 */
export async function createUpload(
  stores: UploadServiceStores,
  team: string,
  request: CreateUploadRequest,
  now: number,
  presigned?: { readonly partCount: number },
): Promise<StoredUpload> {
  const fileId = newId('file', now);
  const key = objectKeys.file(team, fileId);
  const s3UploadId = await stores.objects.createMultipartUpload(key, 'application/jsonl');
  const upload: StoredUpload = {
    id: newId('upload', now),
    object: 'upload',
    bytes: request.bytes,
    created_at: seconds(now),
    expires_at: seconds(now) + UPLOAD_TTL_SECONDS,
    filename: request.filename,
    purpose: request.purpose,
    status: 'pending',
    mime_type: request.mime_type,
    file_id: fileId,
    s3_upload_id: s3UploadId,
    mode: presigned ? 'presigned' : 'direct',
    part_count: presigned?.partCount ?? 0,
  };
  try {
    await stores.uploads.create(team, upload);
  } catch (error) {
    await stores.objects.abortMultipartUpload(key, s3UploadId);
    throw error;
  }
  return upload;
}

export async function getUpload(
  stores: Pick<UploadServiceStores, 'uploads'>,
  team: string,
  uploadId: string,
) {
  const upload = isId('upload', uploadId) ? await stores.uploads.get(team, uploadId) : undefined;
  if (!upload) throw new NotFoundError(`No such Upload object: ${uploadId}`, { param: 'upload_id' });
  return upload;
}

/** Refuses anything but a pending, unexpired upload, saying which it is. */
function completionAbandoned(upload: StoredUpload, now: number): boolean {
  return upload.status === 'completing' && (upload.completing_until ?? 0) < seconds(now);
}

function requireOpen(upload: StoredUpload, now: number): void {
  const status = toUploadObject(upload, now).status;
  if (upload.status === 'completing') {
    if (completionAbandoned(upload, now)) {
      throw new ConflictError(
        `Upload ${upload.id}'s completion was interrupted; cancel it and upload the file again.`,
        {
          param: 'upload_id',
          code: 'upload_interrupted',
        },
      );
    }
    throw new ConflictError(`Upload ${upload.id} is being completed.`, {
      param: 'upload_id',
      code: 'upload_completing',
    });
  }
  if (status !== 'pending') {
    throw new ConflictError(`Upload ${upload.id} is ${status}; only a pending upload accepts this.`, {
      param: 'upload_id',
      code: `upload_${status}`,
    });
  }
}

/**
 * Each part becomes the next S3 multipart part, numbered in arrival order. S3 wants every part
 * but the last to be at least 5 MiB, so a smaller part is accepted only as the final one.
 */
export async function addPart(
  stores: UploadServiceStores,
  team: string,
  uploadId: string,
  data: Buffer,
  now: number,
): Promise<UploadPartObject> {
  const upload = await getUpload(stores, team, uploadId);
  if (upload.mode === 'presigned') {
    throw new InvalidRequestError(`Upload ${uploadId} takes its parts through its presigned URLs.`, {
      param: 'upload_id',
    });
  }
  requireOpen(upload, now);
  if (data.length === 0) throw new InvalidRequestError('The part is empty.', { param: 'data' });
  const parts = await stores.uploads.listParts(team, uploadId);
  const received = parts.reduce((sum, part) => sum + part.bytes, 0);
  if (received + data.length > upload.bytes) {
    throw new InvalidRequestError(
      `The parts would hold ${received + data.length} bytes, more than the ${upload.bytes} the upload declared.`,
      { param: 'data' },
    );
  }
  const short = parts.find((part) => part.bytes < MIN_UPLOAD_PART_BYTES);
  if (short) {
    throw new InvalidRequestError(
      `Part ${short.id} is smaller than ${MIN_UPLOAD_PART_BYTES} bytes, so it must be the last part; no part may follow it.`,
      { param: 'data' },
    );
  }
  const partNumber = await stores.uploads.reservePartNumber(team, uploadId, seconds(now), MAX_UPLOAD_PARTS);
  if (partNumber === undefined) {
    const latest = await getUpload(stores, team, uploadId);
    requireOpen(latest, now);
    throw new InvalidRequestError(`Upload ${uploadId} already has ${MAX_UPLOAD_PARTS} parts.`, {
      param: 'data',
    });
  }
  let etag: string;
  try {
    etag = await stores.objects.uploadPart(
      objectKeys.file(team, upload.file_id),
      upload.s3_upload_id,
      partNumber,
      data,
    );
  } catch (error) {
    // A cancel or completion between the reservation and the S3 call ends the S3 upload first.
    if (isS3Error(error, 'NoSuchUpload')) {
      requireOpen(await getUpload(stores, team, uploadId), now);
      throw new ConflictError(`Upload ${uploadId} changed while adding a part; retry.`, {
        param: 'upload_id',
        cause: error,
      });
    }
    throw error;
  }
  const part: StoredUploadPart = {
    id: newId('uploadPart', now),
    part_number: partNumber,
    etag,
    bytes: data.length,
    created_at: seconds(now),
  };
  if (!(await stores.uploads.putPart(team, uploadId, part))) {
    requireOpen(await getUpload(stores, team, uploadId), now);
    throw new ConflictError(`Upload ${uploadId} changed while adding a part; retry.`, { param: 'upload_id' });
  }
  return { id: part.id, object: 'upload.part', created_at: part.created_at, upload_id: uploadId };
}

/** Resolves OpenAI's `part_ids` against the stored parts and S3's rules for their order and sizes. */
function orderedParts(upload: StoredUpload, stored: readonly StoredUploadPart[], partIds: readonly string[]) {
  const byId = new Map(stored.map((part) => [part.id, part]));
  const seen = new Set<string>();
  const parts = partIds.map((id, index) => {
    const part = byId.get(id);
    if (!part)
      throw new InvalidRequestError(`part_ids[${index}]: upload ${upload.id} has no part ${id}.`, {
        param: 'part_ids',
      });
    if (seen.has(id))
      throw new InvalidRequestError(`part_ids[${index}]: part ${id} is listed twice.`, { param: 'part_ids' });
    seen.add(id);
    return part;
  });
  for (const [index, part] of parts.entries()) {
    const previous = parts[index - 1];
    if (previous && previous.part_number > part.part_number) {
      throw new InvalidRequestError(
        `part_ids must list parts in the order they were uploaded: ${part.id} was uploaded before ${previous.id}.`,
        { param: 'part_ids' },
      );
    }
    if (index < parts.length - 1 && part.bytes < MIN_UPLOAD_PART_BYTES) {
      throw new InvalidRequestError(
        `part_ids[${index}]: part ${part.id} has ${part.bytes} bytes; every part but the last needs at least ${MIN_UPLOAD_PART_BYTES}.`,
        { param: 'part_ids' },
      );
    }
  }
  const total = parts.reduce((sum, part) => sum + part.bytes, 0);
  if (total !== upload.bytes) {
    throw new InvalidRequestError(
      `The listed parts hold ${total} bytes, but the upload declared ${upload.bytes}.`,
      { param: 'part_ids', code: 'bytes_mismatch' },
    );
  }
  return parts.map((part) => ({ partNumber: part.part_number, etag: part.etag }));
}

export async function completeUpload(
  stores: UploadServiceStores,
  team: string,
  uploadId: string,
  request: { readonly part_ids: readonly string[]; readonly md5?: string },
  now: number,
): Promise<UploadObject> {
  const upload = await getUpload(stores, team, uploadId);
  if (upload.mode === 'presigned') {
    throw new InvalidRequestError(
      `Upload ${uploadId} was created with presigned URLs; complete it at /v1/whetstone/uploads/${uploadId}/complete.`,
      { param: 'upload_id' },
    );
  }
  requireOpen(upload, now);
  const parts = orderedParts(upload, await stores.uploads.listParts(team, uploadId), request.part_ids);
  return assemble(stores, team, upload, parts, request.md5, now);
}

/** The whetstone extension's completion: the client names the S3 parts it put through the presigned URLs. */
export async function completePresignedUpload(
  stores: UploadServiceStores,
  team: string,
  uploadId: string,
  request: { readonly parts: readonly { part_number: number; etag: string }[]; readonly md5?: string },
  now: number,
): Promise<UploadObject> {
  const upload = await getUpload(stores, team, uploadId);
  if (upload.mode !== 'presigned') {
    throw new InvalidRequestError(
      `Upload ${uploadId} takes parts through the API; complete it at /v1/uploads/${uploadId}/complete.`,
      {
        param: 'upload_id',
      },
    );
  }
  requireOpen(upload, now);
  for (const [index, part] of request.parts.entries()) {
    if (part.part_number !== index + 1) {
      throw new InvalidRequestError(
        `parts[${index}].part_number must be ${index + 1}: list every part, in order.`,
        {
          param: `parts.${index}.part_number`,
        },
      );
    }
  }
  if (request.parts.length !== upload.part_count) {
    throw new InvalidRequestError(
      `The upload has ${upload.part_count} parts, but ${request.parts.length} were listed.`,
      {
        param: 'parts',
      },
    );
  }
  const parts = request.parts.map((part) => ({ partNumber: part.part_number, etag: part.etag }));
  return assemble(stores, team, upload, parts, request.md5, now);
}

/**
 * Claims the upload, has S3 join the parts, validates the joined object as it streams, and
 * records the file and the completed upload together. A failure before S3 joins the parts
 * leaves the upload pending for a retry; after, the object is removed and the upload cancelled,
 * because S3 has consumed the parts.
 */
async function assemble(
  stores: UploadServiceStores,
  team: string,
  upload: StoredUpload,
  parts: readonly { partNumber: number; etag: string }[],
  md5: string | undefined,
  now: number,
): Promise<UploadObject> {
  if (!(await stores.uploads.claimCompletion(team, upload.id, seconds(now) + COMPLETION_LEASE_SECONDS))) {
    requireOpen(await getUpload(stores, team, upload.id), now);
    throw new ConflictError(`Upload ${upload.id} changed while completing; retry.`, { param: 'upload_id' });
  }
  const key = objectKeys.file(team, upload.file_id);
  try {
    await stores.objects.completeMultipartUpload(key, upload.s3_upload_id, parts);
  } catch (error) {
    if (!isS3Error(error, ...REFUSED_PART_ERRORS)) {
      // S3 may have joined the parts before the failure: the upload can no longer be trusted to
      // complete, so it is left for cancel to clear at once.
      await stores.uploads.endCompletionLease(team, upload.id);
      throw error;
    }
    await stores.uploads.transition(team, upload.id, 'completing', 'pending');
    throw new InvalidRequestError(`S3 refused to join the parts: ${(error as Error).message}`, {
      param: 'parts',
      cause: error,
    });
  }
  try {
    // A cheap HEAD first: presigned parts are not size-checked by S3, so the joined object can be
    // far larger than declared, and it should not be streamed through the validator to learn so.
    const joinedBytes = await stores.objects.size(key);
    if (joinedBytes !== upload.bytes) {
      throw new InvalidRequestError(
        `The parts hold ${joinedBytes} bytes, but the upload declared ${upload.bytes}.`,
        {
          param: 'parts',
          code: 'bytes_mismatch',
        },
      );
    }
    const stored = await validateStoredObject(stores.objects, key);
    if (md5 !== undefined && stored.md5 !== md5.toLowerCase()) {
      throw new InvalidRequestError(`The file's MD5 is ${stored.md5}, not ${md5}.`, {
        param: 'md5',
        code: 'md5_mismatch',
      });
    }
    const file: FileObject = {
      id: upload.file_id,
      object: 'file',
      bytes: stored.bytes,
      created_at: seconds(now),
      expires_at: null,
      filename: upload.filename,
      purpose: upload.purpose,
      ...outcomeOf(stored.report),
    };
    await stores.uploads.complete(team, upload.id, file);
    return toUploadObject({ ...upload, status: 'completed' }, now, file);
  } catch (error) {
    await stores.objects.delete(key);
    await stores.uploads.transition(team, upload.id, 'completing', 'cancelled');
    throw error;
  }
}

export async function cancelUpload(
  stores: UploadServiceStores,
  team: string,
  uploadId: string,
  now: number,
): Promise<UploadObject> {
  const upload = await getUpload(stores, team, uploadId);
  const key = objectKeys.file(team, upload.file_id);
  const changed = () =>
    new ConflictError(`Upload ${uploadId} changed while cancelling; retry.`, { param: 'upload_id' });
  if (completionAbandoned(upload, now)) {
    // The dead request may or may not have had S3 join the parts: both are cleared before the
    // upload is marked, so a failure here leaves it cancellable again.
    await stores.objects.delete(key);
    await abortMultipartUpload(stores.objects, key, upload.s3_upload_id);
    if (!(await stores.uploads.abandonCompletion(team, uploadId, seconds(now)))) {
      requireOpen(await getUpload(stores, team, uploadId), now);
      throw changed();
    }
    return toUploadObject({ ...upload, status: 'cancelled' }, now);
  }
  requireOpen(upload, now);
  if (!(await stores.uploads.transition(team, uploadId, 'pending', 'cancelled'))) {
    requireOpen(await getUpload(stores, team, uploadId), now);
    // Pending again: a completion failed and rolled back meanwhile; the S3 upload is still live.
    throw changed();
  }
  await abortMultipartUpload(stores.objects, key, upload.s3_upload_id);
  return toUploadObject({ ...upload, status: 'cancelled' }, now);
}

/** Aborting is idempotent in intent: an upload S3 no longer has is already gone. */
async function abortMultipartUpload(objects: ObjectStore, key: string, s3UploadId: string): Promise<void> {
  try {
    await objects.abortMultipartUpload(key, s3UploadId);
  } catch (error) {
    if (!isS3Error(error, 'NoSuchUpload')) throw error;
  }
}

/** Part size for presigned uploads: 64 MiB, or larger when that would need more than S3's 10,000 parts. */
export function presignedPartBytes(bytes: number, requested: number | undefined): number {
  const smallestAllowed = Math.max(MIN_UPLOAD_PART_BYTES, Math.ceil(bytes / MAX_UPLOAD_PARTS));
  return Math.max(requested ?? 64 * 1024 * 1024, smallestAllowed);
}

export interface PresignedPart {
  readonly part_number: number;
  readonly bytes: number;
  readonly url: string;
}

/**
 * The extension for files beyond what API Gateway carries: the client PUTs each byte range
 * straight to S3 with the URL for its part, then completes with the ETags S3 returned.
 */
export async function createPresignedUpload(
  stores: UploadServiceStores,
  team: string,
  request: CreateUploadRequest & { readonly part_bytes?: number },
  now: number,
): Promise<{ upload: StoredUpload; partBytes: number; parts: PresignedPart[] }> {
  const partBytes = presignedPartBytes(request.bytes, request.part_bytes);
  const partCount = Math.ceil(request.bytes / partBytes);
  const upload = await createUpload(stores, team, request, now, { partCount });
  const key = objectKeys.file(team, upload.file_id);
  const parts = await Promise.all(
    Array.from({ length: partCount }, async (_, index) => ({
      part_number: index + 1,
      bytes: Math.min(partBytes, request.bytes - index * partBytes),
      url: await stores.objects.presignUploadPart(key, upload.s3_upload_id, index + 1, UPLOAD_TTL_SECONDS),
    })),
  );
  return { upload, partBytes, parts };
}

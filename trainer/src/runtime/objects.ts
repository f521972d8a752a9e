import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createS3Client } from '../../../lib/adapters/s3/client';
import { type ObjectStore, S3ObjectStore } from '../../../lib/adapters/s3/object-store';
import { parseS3Uri } from '../../../lib/core/jobs';
import type { TrainerEnv } from './env';
import { StorageUnavailableError, TrainerInputError } from './errors';

/** Waits between tries of a failing S3 call: about 30 s in all before the trainer gives up. */
export const DEFAULT_RETRY_DELAYS_MS: readonly number[] = [500, 1_000, 2_000, 4_000, 8_000, 16_000];
/** Files above this go up in parts of this size, so no file is ever held in memory whole. */
const PART_BYTES = 64 * 1024 * 1024;

export interface TransferredFile {
  readonly bytes: number;
  readonly sha256: string;
}

export interface ListedUri {
  readonly uri: string;
  /** The key below the listed prefix, `/`-separated. */
  readonly relative: string;
  readonly bytes: number;
}

export interface ObjectsOptions {
  readonly retryDelaysMs?: readonly number[];
  /** Told about each failed try that will be retried. */
  readonly onRetry?: (what: string, failedTries: number, error: unknown) => void;
}

/**
 * The bucket's objects by `s3://` URI (the spec names locations with their bucket), every call
 * retried with backoff: S3 and its local stand-in fail now and then, and a training run of hours
 * must not be lost to one refused connection. After the last try the call fails with a
 * StorageUnavailableError that names what was being done.
 */
export class ObjectsByUri {
  private readonly stores = new Map<string, ObjectStore>();
  private readonly client;
  private readonly retryDelaysMs: readonly number[];
  private readonly onRetry: ObjectsOptions['onRetry'];

  constructor(environment: TrainerEnv['environment'], options: ObjectsOptions = {}) {
    this.client = createS3Client({ forcePathStyle: environment === 'local' });
    this.retryDelaysMs = options.retryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS;
    this.onRetry = options.onRetry;
  }

  /** Size in bytes; undefined when there is no such object. */
  async size(uri: string): Promise<number | undefined> {
    const { store, key } = this.locate(uri);
    return this.retrying(`read the size of ${uri}`, () => store.size(key));
  }

  /** The object as UTF-8 text; undefined when there is no such object. */
  async text(uri: string): Promise<string | undefined> {
    const { store, key } = this.locate(uri);
    return this.retrying(`read ${uri}`, async () => {
      const body = await store.get(key);
      return body ? readAll(body.stream) : undefined;
    });
  }

  /** Every object under a folder URI (ending in `/`), in key order. */
  async list(prefixUri: string): Promise<ListedUri[]> {
    const { store, key, bucket } = this.locate(prefixUri);
    return this.retrying(`list ${prefixUri}`, async () =>
      (await store.list(key)).map((object) => ({
        uri: `s3://${bucket}/${object.key}`,
        relative: object.key.slice(key.length),
        bytes: object.bytes,
      })),
    );
  }

  /**
   * Streams the object to `file` (written beside it, then renamed), hashing it on the way. The
   * object must exist; when `expectedBytes` is given, its size must match.
   */
  async download(uri: string, file: string, expectedBytes?: number): Promise<TransferredFile> {
    const { store, key } = this.locate(uri);
    return this.retrying(`download ${uri}`, async () => {
      const body = await store.get(key);
      if (!body) throw new TrainerInputError(`${uri} does not exist`);
      await mkdir(dirname(file), { recursive: true });
      const partial = `${file}.partial`;
      const hash = createHash('sha256');
      let bytes = 0;
      const counter = new Transform({
        transform(chunk: Buffer, _encoding, done) {
          hash.update(chunk);
          bytes += chunk.length;
          done(null, chunk);
        },
      });
      await pipeline(body.stream, counter, createWriteStream(partial));
      if (expectedBytes !== undefined && bytes !== expectedBytes) {
        await rm(partial, { force: true });
        throw new TrainerInputError(`${uri} has ${bytes} bytes where ${expectedBytes} were expected`);
      }
      await rename(partial, file);
      return { bytes, sha256: hash.digest('hex') };
    });
  }

  /** Uploads a file; large files go up in parts. */
  async upload(file: string, uri: string, contentType = contentTypeOf(file)): Promise<TransferredFile> {
    const { store, key } = this.locate(uri);
    return this.retrying(`upload ${file} to ${uri}`, () => uploadFile(store, file, key, contentType));
  }

  /** Uploads every file under `dir` to the folder URI `prefixUri`, keeping relative paths; returns them sorted. */
  async uploadDir(dir: string, prefixUri: string): Promise<(TransferredFile & { relative: string })[]> {
    const files = await filesUnder(dir);
    const uploaded: (TransferredFile & { relative: string })[] = [];
    for (const file of files) {
      const path = relative(dir, file).split(sep).join('/');
      uploaded.push({ relative: path, ...(await this.upload(file, `${prefixUri}${path}`)) });
    }
    return uploaded;
  }

  /** Writes a small object from memory. */
  async put(uri: string, body: string, contentType: string): Promise<void> {
    const { store, key } = this.locate(uri);
    return this.retrying(`write ${uri}`, () => store.put(key, Buffer.from(body, 'utf8'), contentType));
  }

  /** Deletes the object; one that does not exist is no error. */
  async delete(uri: string): Promise<void> {
    const { store, key } = this.locate(uri);
    return this.retrying(`delete ${uri}`, () => store.delete(key));
  }

  /** Deletes every object under a folder URI; returns how many there were. */
  async deleteFolder(prefixUri: string): Promise<number> {
    const { store, key } = this.locate(prefixUri);
    // Without its `/`, `step-1` would also take `step-12/`; without a key, the whole bucket.
    if (!key.endsWith('/')) throw new Error(`'${prefixUri}' is not a folder URI ending in '/'`);
    return this.retrying(`delete the objects under ${prefixUri}`, () => store.deletePrefix(key));
  }

  private locate(uri: string): { store: ObjectStore; bucket: string; key: string } {
    const location = parseS3Uri(uri);
    if (!location) throw new TrainerInputError(`'${uri}' is not an s3://bucket/key URI`);
    let store = this.stores.get(location.bucket);
    if (!store) {
      store = new S3ObjectStore(this.client, location.bucket);
      this.stores.set(location.bucket, store);
    }
    return { store, ...location };
  }

  private async retrying<T>(what: string, call: () => Promise<T>): Promise<T> {
    for (let failed = 0; ; failed++) {
      try {
        return await call();
      } catch (error) {
        // A missing or wrong object stays so; only the storage itself is worth waiting for.
        if (error instanceof TrainerInputError) throw error;
        const delay = this.retryDelaysMs[failed];
        if (delay === undefined) throw new StorageUnavailableError(what, failed + 1, error);
        this.onRetry?.(what, failed + 1, error);
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  }
}

async function uploadFile(
  store: ObjectStore,
  file: string,
  key: string,
  contentType: string,
): Promise<TransferredFile> {
  const { size } = await stat(file);
  const hash = createHash('sha256');
  const handle = await open(file, 'r');
  try {
    if (size <= PART_BYTES) {
      const body = Buffer.alloc(size);
      await handle.read(body, 0, size, 0);
      hash.update(body);
      await store.put(key, body, contentType);
      return { bytes: size, sha256: hash.digest('hex') };
    }
    const uploadId = await store.createMultipartUpload(key, contentType);
    try {
      const parts: { partNumber: number; etag: string }[] = [];
      for (let offset = 0, partNumber = 1; offset < size; offset += PART_BYTES, partNumber++) {
        const body = Buffer.alloc(Math.min(PART_BYTES, size - offset));
        await handle.read(body, 0, body.length, offset);
        hash.update(body);
        parts.push({ partNumber, etag: await store.uploadPart(key, uploadId, partNumber, body) });
      }
      await store.completeMultipartUpload(key, uploadId, parts);
    } catch (error) {
      await store.abortMultipartUpload(key, uploadId).catch(() => undefined);
      throw error;
    }
    return { bytes: size, sha256: hash.digest('hex') };
  } finally {
    await handle.close();
  }
}

/** Regular files under `dir`, recursively, in path order. */
export async function filesUnder(dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...(await filesUnder(path)));
    else if (entry.isFile()) found.push(path);
  }
  return found.sort();
}

function contentTypeOf(file: string): string {
  if (file.endsWith('.json')) return 'application/json';
  if (file.endsWith('.jsonl')) return 'application/jsonl';
  if (file.endsWith('.csv')) return 'text/csv';
  if (file.endsWith('.md')) return 'text/markdown';
  return 'application/octet-stream';
}

async function readAll(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks).toString('utf8');
}

import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { type AddressInfo, createConnection, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningService } from '../../../lib/local/services/dynamodb-local';
import { freePort, startOnFreePort } from '../../../lib/local/services/ports';
import { startS3Server } from '../../../lib/local/services/s3-server';
import { StorageUnavailableError, TrainerInputError } from '../../../trainer/src/runtime/errors';
import { ObjectsByUri } from '../../../trainer/src/runtime/objects';

const BUCKET = 'whetstone-objects-test';

/** What the local platform gives the trainer: s3rver by path, with its fixed credentials. */
const S3_ENV_NAMES = [
  'AWS_ENDPOINT_URL_S3',
  'AWS_REGION',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_PROFILE',
] as const;

function sha256(bytes: Buffer | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Sets the S3 variables for the SDK, returning how to put back what was there. */
function useS3Endpoint(endpoint: string): () => void {
  const saved = Object.fromEntries(S3_ENV_NAMES.map((name) => [name, process.env[name]]));
  for (const name of S3_ENV_NAMES) delete process.env[name];
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_S3: endpoint,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'S3RVER',
    AWS_SECRET_ACCESS_KEY: 'S3RVER',
  });
  return () => {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  };
}

interface FlakyRelay {
  readonly endpoint: string;
  /** While set, every connection is dropped as soon as it opens. */
  failing: boolean;
  close(): Promise<void>;
}

/** A TCP relay to the S3 server, which can drop connections as a failing network does. */
async function startFlakyRelay(target: string): Promise<FlakyRelay> {
  const { hostname, port } = new URL(target);
  const open = new Set<Socket>();
  const state = { failing: true };
  const relay = createServer((socket) => {
    if (state.failing) {
      socket.destroy();
      return;
    }
    const upstream = createConnection(Number(port), hostname);
    for (const end of [socket, upstream]) {
      open.add(end);
      end.on('close', () => open.delete(end));
    }
    socket.pipe(upstream).pipe(socket);
    upstream.on('error', () => socket.destroy());
    socket.on('error', () => upstream.destroy());
  });
  await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
  const address = relay.address() as AddressInfo;
  return Object.assign(state, {
    endpoint: `http://127.0.0.1:${address.port}`,
    // The SDK keeps its connection alive; closing the relay must not wait for S3 to drop it.
    close: async () => {
      for (const socket of open) socket.destroy();
      await new Promise((resolve) => relay.close(resolve));
    },
  });
}

describe('ObjectsByUri', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'whetstone-objects-s3-'));
  const workDir = mkdtempSync(join(tmpdir(), 'whetstone-objects-'));
  let s3: RunningService;
  let restoreEnv: () => void = () => undefined;
  let objects: ObjectsByUri;

  beforeAll(async () => {
    s3 = await startOnFreePort((port) => startS3Server({ dataDir, port, bucket: BUCKET }));
    restoreEnv = useS3Endpoint(s3.endpoint);
    objects = new ObjectsByUri('local', { retryDelaysMs: [10, 20] });
  });
  afterAll(async () => {
    restoreEnv();
    await s3?.stop();
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(workDir, { recursive: true, force: true });
  });

  it('downloads an object to the file, with its byte count and SHA-256', async () => {
    // Prepare: larger than one stream chunk, so the hash is taken across chunks
    const content = randomBytes(3 * 1024 * 1024 + 17);
    const source = join(workDir, 'source.bin');
    await writeFile(source, content);
    await objects.upload(source, `s3://${BUCKET}/download/model.bin`);
    const target = join(workDir, 'fresh', 'nested', 'model.bin');

    // Act
    const downloaded = await objects.download(`s3://${BUCKET}/download/model.bin`, target, content.length);

    // Assess
    expect(downloaded).toEqual({ bytes: 3_145_745, sha256: sha256(content) });
    expect((await readFile(target)).equals(content)).toBe(true);
    expect(await readdir(join(workDir, 'fresh', 'nested'))).toEqual(['model.bin']);
  });

  it('refuses an object of another size than expected, leaving no file behind', async () => {
    // Prepare
    await objects.put(`s3://${BUCKET}/download/short.jsonl`, '{"messages": []}\n', 'application/jsonl');
    const target = join(workDir, 'short', 'train.jsonl');

    // Act
    const failure = await objects.download(`s3://${BUCKET}/download/short.jsonl`, target, 100).then(
      () => undefined,
      (error: unknown) => error,
    );

    // Assess
    expect(failure).toBeInstanceOf(TrainerInputError);
    expect((failure as Error).message).toBe(
      `s3://${BUCKET}/download/short.jsonl has 17 bytes where 100 were expected`,
    );
    expect(existsSync(target)).toBe(false);
    expect(existsSync(`${target}.partial`)).toBe(false);
  });

  it('refuses a missing object at once, without retrying', async () => {
    // Prepare
    const retries: number[] = [];
    const watched = new ObjectsByUri('local', {
      retryDelaysMs: [10, 20],
      onRetry: (_what, failedTries) => retries.push(failedTries),
    });
    const target = join(workDir, 'missing', 'train.jsonl');

    // Act
    const failure = await watched.download(`s3://${BUCKET}/download/absent.jsonl`, target).then(
      () => undefined,
      (error: unknown) => error,
    );

    // Assess
    expect(failure).toBeInstanceOf(TrainerInputError);
    expect((failure as TrainerInputError).message).toBe(
      `s3://${BUCKET}/download/absent.jsonl does not exist`,
    );
    expect((failure as TrainerInputError).code).toBe('invalid_job_spec');
    expect(retries).toEqual([]);
    expect(existsSync(target)).toBe(false);
  });

  it('refuses a location that is not an s3:// URI', async () => {
    // Act
    const failure = await (async () => objects.text('https://example.com/spec.json'))().then(
      () => undefined,
      (error: unknown) => error,
    );

    // Assess
    expect(failure).toBeInstanceOf(TrainerInputError);
    expect((failure as Error).message).toBe("'https://example.com/spec.json' is not an s3://bucket/key URI");
  });

  it('uploads a file with its content type and returns its byte count and SHA-256', async () => {
    // Prepare
    const file = join(workDir, 'metrics.json');
    await writeFile(file, '{"step": 1}\n');
    const client = new S3Client({ endpoint: s3.endpoint, forcePathStyle: true });

    // Act
    const uploaded = await objects.upload(file, `s3://${BUCKET}/upload/metrics.json`);

    // Assess
    const head = await client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'upload/metrics.json' }));
    client.destroy();
    expect(uploaded).toEqual({ bytes: 12, sha256: sha256('{"step": 1}\n') });
    expect(head.ContentType).toBe('application/json');
    expect(await objects.text(`s3://${BUCKET}/upload/metrics.json`)).toBe('{"step": 1}\n');
  });

  it('uploads a folder keeping relative paths, sorted, each with its hash', async () => {
    // Prepare
    const dir = join(workDir, 'adapter');
    await mkdir(join(dir, 'tokenizer'), { recursive: true });
    await writeFile(join(dir, 'adapter_config.json'), '{"r": 8}');
    await writeFile(join(dir, 'tokenizer', 'tokenizer.json'), '{"model": {}}');
    await writeFile(join(dir, 'adapter_model.safetensors'), Buffer.alloc(40, 7));

    // Act
    const uploaded = await objects.uploadDir(dir, `s3://${BUCKET}/models/ft-1/`);

    // Assess
    expect(uploaded).toEqual([
      { relative: 'adapter_config.json', bytes: 8, sha256: sha256('{"r": 8}') },
      { relative: 'adapter_model.safetensors', bytes: 40, sha256: sha256(Buffer.alloc(40, 7)) },
      { relative: 'tokenizer/tokenizer.json', bytes: 13, sha256: sha256('{"model": {}}') },
    ]);
    expect(await objects.text(`s3://${BUCKET}/models/ft-1/tokenizer/tokenizer.json`)).toBe('{"model": {}}');
  });

  it('lists the objects under a folder with keys relative to it, in key order', async () => {
    // Prepare
    for (const key of ['b/2.txt', 'a.txt', 'b/10.txt', 'c']) {
      await objects.put(`s3://${BUCKET}/listing/${key}`, key, 'text/plain');
    }
    await objects.put(`s3://${BUCKET}/listing-other/x`, 'x', 'text/plain');

    // Act
    const listed = await objects.list(`s3://${BUCKET}/listing/`);

    // Assess
    expect(listed).toEqual([
      { uri: `s3://${BUCKET}/listing/a.txt`, relative: 'a.txt', bytes: 5 },
      { uri: `s3://${BUCKET}/listing/b/10.txt`, relative: 'b/10.txt', bytes: 8 },
      { uri: `s3://${BUCKET}/listing/b/2.txt`, relative: 'b/2.txt', bytes: 7 },
      { uri: `s3://${BUCKET}/listing/c`, relative: 'c', bytes: 1 },
    ]);
  });

  it('deletes one object, or every object under a folder but not under a longer name beside it', async () => {
    // Prepare
    for (const key of ['step-1/a', 'step-1/b/c', 'step-12/a', 'loose']) {
      await objects.put(`s3://${BUCKET}/deleting/${key}`, key, 'text/plain');
    }

    // Act
    await objects.delete(`s3://${BUCKET}/deleting/loose`);
    await objects.delete(`s3://${BUCKET}/deleting/never-there`);
    const deleted = await objects.deleteFolder(`s3://${BUCKET}/deleting/step-1/`);

    // Assess
    expect(deleted).toBe(2);
    expect((await objects.list(`s3://${BUCKET}/deleting/`)).map((object) => object.relative)).toEqual([
      'step-12/a',
    ]);
  });

  it('refuses to delete under a location that is not a folder', async () => {
    // Act
    const attempts = [`s3://${BUCKET}/deleting/step-1`, `s3://${BUCKET}/`].map((uri) =>
      objects.deleteFolder(uri).catch((error: Error) => error.message),
    );

    // Assess
    expect(await Promise.all(attempts)).toEqual([
      `'s3://${BUCKET}/deleting/step-1' is not a folder URI ending in '/'`,
      `'s3://${BUCKET}/' is not a folder URI ending in '/'`,
    ]);
  });

  it('answers undefined for the size and text of a missing object', async () => {
    // Act
    const size = await objects.size(`s3://${BUCKET}/nothing/here`);
    const text = await objects.text(`s3://${BUCKET}/nothing/here`);

    // Assess
    expect(size).toBeUndefined();
    expect(text).toBeUndefined();
  });

  it('retries a call that fails, and succeeds once S3 answers again', async () => {
    // Prepare
    await objects.put(`s3://${BUCKET}/flaky/spec.json`, '{"job": 1}', 'application/json');
    const flaky = await startFlakyRelay(s3.endpoint);
    const restore = useS3Endpoint(flaky.endpoint);
    const retries: { what: string; failedTries: number }[] = [];
    try {
      const throughRelay = new ObjectsByUri('local', {
        retryDelaysMs: [10, 20],
        onRetry: (what, failedTries) => {
          retries.push({ what, failedTries });
          flaky.failing = false;
        },
      });

      // Act
      const text = await throughRelay.text(`s3://${BUCKET}/flaky/spec.json`);

      // Assess
      expect(text).toBe('{"job": 1}');
      expect(retries).toEqual([{ what: `read s3://${BUCKET}/flaky/spec.json`, failedTries: 1 }]);
    } finally {
      restore();
      await flaky.close();
    }
  });

  it('gives up with StorageUnavailableError after the last delay when S3 stays down', async () => {
    // Prepare: a port nothing listens on, as a stopped S3 server leaves it
    const deadEndpoint = `http://127.0.0.1:${await freePort()}`;
    const restore = useS3Endpoint(deadEndpoint);
    const retries: { what: string; failedTries: number; error: unknown }[] = [];
    try {
      const unreachable = new ObjectsByUri('local', {
        retryDelaysMs: [10, 20],
        onRetry: (what, failedTries, error) => retries.push({ what, failedTries, error }),
      });
      const started = Date.now();

      // Act
      const failure = await unreachable
        .download(`s3://${BUCKET}/download/model.bin`, join(workDir, 'down', 'model.bin'))
        .then(
          () => undefined,
          (error: unknown) => error,
        );

      // Assess
      const elapsedMs = Date.now() - started;
      expect(failure).toBeInstanceOf(StorageUnavailableError);
      const unavailable = failure as StorageUnavailableError;
      const last = unavailable.cause as Error;
      expect(last.message).toBe(`connect ECONNREFUSED ${deadEndpoint.slice('http://'.length)}`);
      expect(unavailable.message).toBe(
        `Could not download s3://${BUCKET}/download/model.bin: S3 failed 3 tries in a row (last: ${last.message})`,
      );
      expect(unavailable.what).toBe(`download s3://${BUCKET}/download/model.bin`);
      expect(unavailable.tries).toBe(3);
      expect(retries.map(({ what, failedTries }) => [what, failedTries])).toEqual([
        [`download s3://${BUCKET}/download/model.bin`, 1],
        [`download s3://${BUCKET}/download/model.bin`, 2],
      ]);
      expect(retries.every(({ error }) => error instanceof Error)).toBe(true);
      expect(elapsedMs).toBeGreaterThanOrEqual(30);
      expect(existsSync(join(workDir, 'down'))).toBe(false);
    } finally {
      restore();
    }
  });
});

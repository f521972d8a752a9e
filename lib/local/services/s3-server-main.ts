/**
 * Child-process entry of the local S3 server. s3rver runs in its own process because its
 * listing cursors need `--openssl-legacy-provider`, which the rest of the platform should not get.
 * Usage: s3-server-main <port> <directory> <bucket>, with stdin a pipe from the parent.
 */
import { rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import { join } from 'node:path';
import S3rver from 's3rver';

interface KoaContext {
  method: string;
  path: string;
  query: Record<string, string | undefined>;
  status: number;
  body: unknown;
}
type KoaMiddleware = (context: KoaContext, next: () => Promise<void>) => Promise<void>;
interface S3rverInternals {
  middleware: KoaMiddleware[];
  httpServer?: Server;
  store: { getResourcePath(bucket: string, key: string | undefined, resource: string): string };
}

const [portArgument, directory, bucket] = process.argv.slice(2);
if (!portArgument || !directory || !bucket) {
  console.error('usage: s3-server-main <port> <directory> <bucket>');
  process.exit(2);
}

const server = new S3rver({
  address: '127.0.0.1',
  port: Number(portArgument),
  directory,
  silent: true,
  configureBuckets: [{ name: bucket, configs: [] }],
});

// s3rver lacks AbortMultipartUpload; S3's contract is to drop the upload's parts and answer 204.
const internals = server as unknown as S3rverInternals;
const abortMultipartUpload: KoaMiddleware = async (context, next) => {
  const uploadId = context.query.uploadId;
  if (context.method !== 'DELETE' || !uploadId || !/^[0-9a-f]{32}$/.test(uploadId)) return next();
  const bucketName = context.path.split('/')[1] ?? '';
  await rm(join(internals.store.getResourcePath(bucketName, undefined, 'uploads'), uploadId), {
    recursive: true,
    force: true,
  });
  context.status = 204;
  context.body = null;
};
internals.middleware.unshift(abortMultipartUpload);

server.run((error) => {
  if (error) {
    console.error(`s3 server failed to start: ${error.message}`);
    process.exit(1);
  }
  console.log('ready');
});

let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  server.close(() => process.exit(0));
  // Clients keep idle connections open, and close() waits for every one of them.
  internals.httpServer?.closeAllConnections();
  // A close that never calls back (the server was still starting) must not keep us alive.
  setTimeout(() => process.exit(0), 2_000).unref();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
// The parent holds our stdin open for as long as it lives; when it ends, the parent is gone
// (even killed outright), so the server goes too instead of living on unowned.
process.stdin.on('end', stop);
process.stdin.on('close', stop);
process.stdin.resume();

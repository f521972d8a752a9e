import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { captureTail, stopChild } from './child';
import type { RunningService } from './dynamodb-local';
import { PortTakenError, waitFor } from './ports';

/** Starts s3rver in a child process with the bucket created; its state is the files under `dataDir`. */
export async function startS3Server(options: {
  readonly dataDir: string;
  readonly port: number;
  readonly bucket: string;
}): Promise<RunningService> {
  mkdirSync(options.dataDir, { recursive: true });
  const child = spawn(
    process.execPath,
    [
      '--openssl-legacy-provider',
      '--import',
      'tsx',
      join(__dirname, 's3-server-main.ts'),
      String(options.port),
      options.dataDir,
      options.bucket,
    ],
    // stdin is a pipe the child watches: it stops when the pipe closes, i.e. when this process dies.
    { stdio: ['pipe', 'pipe', 'pipe'], cwd: join(__dirname, '..', '..', '..') },
  );
  const tail = captureTail(child);
  // 'close' comes once the child's output is all read, so a failed start can be explained in full.
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
  let ready = false;
  child.stdout.on('data', (chunk: Buffer) => {
    if (chunk.toString('utf8').includes('ready')) ready = true;
  });
  try {
    await waitFor(
      'the S3 server',
      async () => {
        // A child killed by a signal has no exit code, only a signal code.
        if (child.exitCode !== null || child.signalCode !== null) {
          await closed;
          const output = tail();
          if (output.includes('EADDRINUSE')) throw new PortTakenError('The S3 server', options.port, output);
          throw new Error(`the S3 server exited with ${child.exitCode ?? child.signalCode}:\n${output}`);
        }
        return ready;
      },
      30_000,
    );
  } catch (error) {
    await stopChild(child);
    throw error;
  }
  return { endpoint: `http://127.0.0.1:${options.port}`, stop: () => stopChild(child) };
}

import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import {
  credentialsFilePath,
  credentialsFileSchema,
  platformFilePath,
  platformFileSchema,
} from '../../lib/local/files';

const ROOT = resolve(__dirname, '..', '..');

/** `whet start` running as a user starts it, in its own data dir, with what it reported. */
export interface RunningProduct {
  readonly dataDir: string;
  readonly url: string;
  readonly s3Endpoint: string;
  readonly dynamodbEndpoint: string;
  readonly bucket: string;
  /** The owner key from `{data dir}/credentials`. */
  readonly apiKey: string;
  readonly pid: number;
  /** Everything the process printed so far. */
  output(): string;
  /** SIGTERM, as a terminal's stop; resolves with the exit code once the process is gone. */
  stop(): Promise<number | null>;
}

export interface StartProductOptions {
  /** Added to the environment `whet start` inherits (the platform's own variables are not). */
  readonly env?: Readonly<Record<string, string>>;
  readonly timeoutMs?: number;
  /** Serve this data dir again (a restart); default a fresh temporary one. */
  readonly dataDir?: string;
}

/** Variables a surrounding platform may have set; the product must read only what this test gives it. */
const INHERITED_PLATFORM_VARIABLES = /^(WHETSTONE_|AWS_)/;

/**
 * `node --import tsx bin/whet.ts start --data-dir <tmp> --port 0`, which is what `npm start`
 * runs. Ready once `platform.json` and `credentials` are written and `/healthz` answers; a
 * process that exits first fails the start with its output.
 */
export async function startProduct(options: StartProductOptions = {}): Promise<RunningProduct> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'whetstone-e2e-'));
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !INHERITED_PLATFORM_VARIABLES.test(name)),
  );
  // Its own process group, so a stop that hangs can still take every process of the group down.
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'bin/whet.ts', 'start', '--data-dir', dataDir, '--port', '0'],
    { cwd: ROOT, env: { ...env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true },
  );
  let output = '';
  const append = (chunk: Buffer) => {
    output += chunk.toString('utf8');
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  const exited = new Promise<number | null>((resolveExit) => {
    child.once('exit', (code, signal) => resolveExit(code ?? (signal ? -1 : null)));
  });

  try {
    const ready = await waitUntilServing(child, dataDir, options.timeoutMs ?? 60_000, () => output);
    let stopping: Promise<number | null> | undefined;
    return {
      dataDir,
      ...ready,
      pid: child.pid ?? -1,
      output: () => output,
      stop: () => {
        stopping ??= stopProcess(child, exited);
        return stopping;
      },
    };
  } catch (error) {
    await stopProcess(child, exited);
    if (!options.dataDir) rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
}

async function waitUntilServing(
  child: ChildProcess,
  dataDir: string,
  timeoutMs: number,
  output: () => string,
): Promise<Omit<RunningProduct, 'dataDir' | 'pid' | 'output' | 'stop'>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`whet start exited with ${child.exitCode ?? child.signalCode}:\n${output()}`);
    }
    if (Date.now() > deadline)
      throw new Error(`whet start did not serve within ${timeoutMs} ms:\n${output()}`);
    // platform.json is written last, after the owner key is saved.
    if (existsSync(platformFilePath(dataDir)) && existsSync(credentialsFilePath(dataDir))) {
      const platform = platformFileSchema.parse(JSON.parse(readFileSync(platformFilePath(dataDir), 'utf8')));
      const credentials = credentialsFileSchema.parse(
        JSON.parse(readFileSync(credentialsFilePath(dataDir), 'utf8')),
      );
      const health = await fetch(`${platform.url}/healthz`).catch(() => undefined);
      if (health?.status === 200) {
        return {
          url: platform.url,
          s3Endpoint: platform.s3_endpoint,
          dynamodbEndpoint: platform.dynamodb_endpoint,
          bucket: platform.bucket,
          apiKey: credentials.api_key,
        };
      }
    }
    await new Promise((resolveWait) => setTimeout(resolveWait, 100));
  }
}

/** SIGTERM and wait; past the grace period the whole process group gets SIGKILL. */
async function stopProcess(child: ChildProcess, exited: Promise<number | null>): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return exited;
  child.kill('SIGTERM');
  const graceMs = 30_000;
  const timer = setTimeout(() => {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
    } catch {
      // The group is already gone.
    }
  }, graceMs);
  try {
    return await exited;
  } finally {
    clearTimeout(timer);
  }
}

/** Command lines of live processes that name `dataDir`: DynamoDB Local's java and the S3 server do. */
export function processesNaming(dataDir: string): string[] {
  return execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' })
    .split('\n')
    .filter((line) => line.includes(dataDir));
}

/** Trainer pids the local launcher's attempt logs recorded (`pid=<n>`, the test trainer's first line). */
export function trainerPids(dataDir: string): number[] {
  const jobs = join(dataDir, 'jobs');
  if (!existsSync(jobs)) return [];
  return readdirSync(jobs).flatMap((job) =>
    readdirSync(join(jobs, job)).flatMap((log) => {
      const pid = /^pid=(\d+)$/m.exec(readFileSync(join(jobs, job, log), 'utf8'))?.[1];
      return pid ? [Number(pid)] : [];
    }),
  );
}

export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Writes files under `prefix` in a bucket at an S3 endpoint, as an operator uploads a model. */
export async function uploadToBucket(
  target: { readonly s3Endpoint: string; readonly bucket: string },
  prefix: string,
  files: Readonly<Record<string, Uint8Array>>,
): Promise<void> {
  const s3 = new S3Client({
    endpoint: target.s3Endpoint,
    forcePathStyle: true,
    region: 'us-east-1',
    // The local S3 server's fixed account; this process never holds real AWS credentials.
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    requestChecksumCalculation: 'WHEN_REQUIRED',
  });
  try {
    for (const [name, body] of Object.entries(files)) {
      await s3.send(new PutObjectCommand({ Bucket: target.bucket, Key: `${prefix}${name}`, Body: body }));
    }
  } finally {
    s3.destroy();
  }
}

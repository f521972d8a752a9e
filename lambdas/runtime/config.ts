import { resolve } from 'node:path';
import { z } from 'zod';
import { batchTargetProblem } from '../../lib/adapters/launchers/batch-arn';
import { GPU_TYPES, MARKETS, originOf } from '../../lib/core/schemas';

/**
 * The handlers' configuration, read once when the module loads. A missing or malformed variable
 * fails the cold start with its name rather than the first request with a stack trace.
 */
export interface RuntimeConfig {
  readonly tableName: string;
  readonly bucketName: string;
  /** `local` serves S3 by path from the local server; `aws` uses the region's endpoints. */
  readonly environment: 'aws' | 'local';
  /** How long an `Idempotency-Key` is remembered. */
  readonly idempotencyTtlSeconds: number;
  /** Jobs of one team launched at once; further jobs stay `queued` until one ends or pauses. */
  readonly maxRunningJobsPerTeam: number;
  readonly compute: BatchComputeConfig | LocalComputeConfig;
  readonly webhooks: WebhookConfig;
  /** Browser origins (`https://console.example.com`) whose calls the API answers with CORS headers; empty: none. */
  readonly corsOrigins: readonly string[];
}

/**
 * One Batch queue and the job definition its jobs run with, per `{gpu_type}:{market}`. A queue
 * ARN sends the job to the queue's region; a plain name keeps it in the function's own.
 */
export interface BatchComputeConfig {
  readonly kind: 'batch';
  readonly queues: Readonly<Record<string, { readonly queue: string; readonly jobDefinition: string }>>;
}

export interface LocalComputeConfig {
  readonly kind: 'local';
  /** Per-attempt trainer logs go under `{dataDir}/jobs/`. */
  readonly dataDir: string;
  /** The trainer's entry point, run with `node` (TypeScript through tsx's loader). */
  readonly trainerEntry: string;
  /** Trainer processes at once on this machine; further launches wait in the launcher's queue. */
  readonly concurrency: number;
}

export interface WebhookConfig {
  /** AWS: the SQS queue deliveries wait in between tries (required there to deliver). Local deliveries wait in process. */
  readonly queueUrl: string | undefined;
  /** AWS: job notifications also go to this EventBridge bus. */
  readonly eventBusName: string | undefined;
  /** First retry delay; each further try waits five times longer. */
  readonly retryBaseSeconds: number;
  readonly maxAttempts: number;
  /** Whether endpoints may be loopback or private addresses: only on one machine, never in AWS. */
  readonly allowPrivateDestinations: boolean;
}

export class ConfigurationError extends Error {
  constructor(
    readonly variable: string,
    problem: string,
  ) {
    super(`${variable} ${problem}`);
    this.name = 'ConfigurationError';
  }
}

function isQueueKey(key: string): boolean {
  const [gpu, market, ...rest] = key.split(':');
  return (
    rest.length === 0 &&
    (GPU_TYPES as readonly string[]).includes(gpu ?? '') &&
    (MARKETS as readonly string[]).includes(market ?? '')
  );
}
const queuesSchema = z
  .record(z.string(), z.strictObject({ queue: z.string().min(1), jobDefinition: z.string().min(1) }))
  .superRefine((queues, context) => {
    if (Object.keys(queues).length === 0)
      context.addIssue({ code: 'custom', message: 'must name at least one queue' });
    for (const [key, target] of Object.entries(queues)) {
      if (!isQueueKey(key)) {
        context.addIssue({
          code: 'custom',
          path: [key],
          message: "keys must be '{gpu_type}:{market}', e.g. 'a10g:spot'",
        });
      }
      const problem = batchTargetProblem(target);
      if (problem) context.addIssue({ code: 'custom', path: [key, problem.field], message: problem.message });
    }
  });

export function loadConfig(env: NodeJS.ProcessEnv): RuntimeConfig {
  const environment = env.WHETSTONE_ENV ?? 'aws';
  if (environment !== 'aws' && environment !== 'local') {
    throw new ConfigurationError('WHETSTONE_ENV', `must be 'aws' or 'local', not '${environment}'`);
  }
  return {
    tableName: required(env, 'WHETSTONE_TABLE'),
    bucketName: required(env, 'WHETSTONE_BUCKET'),
    environment,
    idempotencyTtlSeconds: positiveInteger(env, 'WHETSTONE_IDEMPOTENCY_TTL_SECONDS', 24 * 60 * 60),
    maxRunningJobsPerTeam: positiveInteger(env, 'WHETSTONE_MAX_RUNNING_JOBS_PER_TEAM', 4),
    compute: environment === 'aws' ? batchCompute(env) : localCompute(env),
    webhooks: {
      queueUrl: env.WHETSTONE_WEBHOOK_QUEUE_URL || undefined,
      eventBusName: env.WHETSTONE_EVENT_BUS || undefined,
      retryBaseSeconds: positiveNumber(env, 'WHETSTONE_WEBHOOK_RETRY_BASE_SECONDS', 10),
      maxAttempts: positiveInteger(env, 'WHETSTONE_WEBHOOK_MAX_ATTEMPTS', 6),
      allowPrivateDestinations: environment === 'local',
    },
    corsOrigins: corsOrigins(env),
  };
}

/**
 * `WHETSTONE_CORS_ORIGINS`: comma-separated origins, each `http(s)://host[:port]` as a browser
 * sends it in `Origin` (a trailing `/` is forgiven; a path, query or wildcard is not).
 */
function corsOrigins(env: NodeJS.ProcessEnv): string[] {
  const name = 'WHETSTONE_CORS_ORIGINS';
  const entries = (env[name] ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  return [
    ...new Set(
      entries.map((entry) => {
        const origin = originOf(entry);
        if (origin === undefined) {
          throw new ConfigurationError(
            name,
            `must be comma-separated origins such as https://console.example.com, not '${entry}'`,
          );
        }
        return origin;
      }),
    ),
  ];
}

/** Only the AWS environment reads these, and only when a handler that needs them loads. */
function batchCompute(env: NodeJS.ProcessEnv): BatchComputeConfig | LocalComputeConfig {
  const name = 'WHETSTONE_JOB_QUEUES';
  const value = env[name];
  if (!value) return { kind: 'batch', queues: {} };
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    throw new ConfigurationError(name, 'must be JSON');
  }
  const queues = queuesSchema.safeParse(parsed);
  if (!queues.success) {
    const issue = queues.error.issues[0];
    throw new ConfigurationError(name, `is invalid at '${issue?.path.join('.') ?? ''}': ${issue?.message}`);
  }
  return { kind: 'batch', queues: queues.data };
}

function localCompute(env: NodeJS.ProcessEnv): LocalComputeConfig {
  return {
    kind: 'local',
    dataDir: resolve(env.WHETSTONE_DATA_DIR || '.whetstone'),
    trainerEntry: resolve(
      env.WHETSTONE_TRAINER_ENTRY || resolve(__dirname, '..', '..', 'trainer', 'src', 'main.ts'),
    ),
    concurrency: positiveInteger(env, 'WHETSTONE_LOCAL_CONCURRENCY', 2),
  };
}

function required(env: NodeJS.ProcessEnv, name: string): string {
  const value = env[name];
  if (!value) throw new ConfigurationError(name, 'is not set');
  return value;
}

function positiveInteger(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const value = env[name];
  if (value === undefined || value === '') return fallback;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed <= 0) {
    throw new ConfigurationError(name, `must be a positive integer, not '${value}'`);
  }
  return parsed;
}

function positiveNumber(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const value = env[name];
  if (value === undefined || value === '') return fallback;
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed <= 0) {
    throw new ConfigurationError(name, `must be a positive number, not '${value}'`);
  }
  return parsed;
}

/**
 * The handlers' configuration, read once when the module loads. A missing variable fails the
 * cold start with its name rather than the first request with a stack trace.
 */
export interface RuntimeConfig {
  readonly tableName: string;
  readonly bucketName: string;
  /** `local` serves S3 by path from the local server; `aws` uses the region's endpoints. */
  readonly environment: 'aws' | 'local';
  /** How long an `Idempotency-Key` is remembered. */
  readonly idempotencyTtlSeconds: number;
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

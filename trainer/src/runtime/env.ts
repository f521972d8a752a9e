import { parseS3Uri, TRAINER_ENV } from '../../../lib/core/jobs';
import { TrainerInputError } from './errors';

export { TrainerInputError };

/** What the launcher tells the trainer (DESIGN.md, Trainer contract), read and checked. */
export interface TrainerEnv {
  readonly jobId: string;
  readonly team: string;
  /** Counts from 1; a resume is a new launch. */
  readonly launch: number;
  readonly specUri: string;
  readonly spec: { readonly bucket: string; readonly key: string };
  readonly table: string;
  readonly bucket: string;
  /** `local` reaches S3 by path on the local server; only `aws` may read instance metadata. */
  readonly environment: 'aws' | 'local';
  /** AWS_BATCH_JOB_ATTEMPT: counts from 1 within the launch; 1 when the variable is absent. */
  readonly attempt: number;
}

export function readTrainerEnv(env: NodeJS.ProcessEnv): TrainerEnv {
  const jobId = required(env, TRAINER_ENV.jobId);
  const team = required(env, TRAINER_ENV.team);
  const launch = positiveInteger(TRAINER_ENV.launch, required(env, TRAINER_ENV.launch));
  const specUri = required(env, TRAINER_ENV.specUri);
  const spec = parseS3Uri(specUri);
  if (!spec) {
    throw new TrainerInputError(`${TRAINER_ENV.specUri} must be an s3://bucket/key URI, not '${specUri}'`);
  }
  const table = required(env, TRAINER_ENV.table);
  const bucket = required(env, TRAINER_ENV.bucket);
  const environment = required(env, TRAINER_ENV.environment);
  if (environment !== 'aws' && environment !== 'local') {
    throw new TrainerInputError(`${TRAINER_ENV.environment} must be 'aws' or 'local', not '${environment}'`);
  }
  const attempt = positiveInteger('AWS_BATCH_JOB_ATTEMPT', env.AWS_BATCH_JOB_ATTEMPT || '1');
  return { jobId, team, launch, specUri, spec, table, bucket, environment, attempt };
}

function required(env: NodeJS.ProcessEnv, name: string): string {
  const value = env[name];
  if (!value) throw new TrainerInputError(`${name} is not set; the launcher sets it for every trainer`);
  return value;
}

function positiveInteger(name: string, value: string): number {
  const parsed = Number(value);
  if (!/^[0-9]+$/.test(value) || !Number.isSafeInteger(parsed) || parsed < 1) {
    throw new TrainerInputError(`${name} must be a positive integer, not '${value}'`);
  }
  return parsed;
}

import type { StoredJob } from '../../lib/adapters';
import { newId } from '../../lib/core/ids';
import type { DesiredStatus } from '../../lib/core/jobs';
import { type JobAttempt, type JobStatus, whetstoneOptionsSchema } from '../../lib/core/schemas';

export interface StoredJobOptions {
  readonly launch: StoredJob['launch'];
  /** Default `default`. */
  readonly team?: string;
  /** Default `queued`. */
  readonly status?: JobStatus;
  /** Default `running`. */
  readonly desired?: DesiredStatus;
  readonly attempts?: JobAttempt[];
}

/** A job record of base model `tiny-llama` with a fresh id, as a store holds it, for seeding stores directly. */
export function storedJob(options: StoredJobOptions): StoredJob {
  const id = newId('job');
  const team = options.team ?? 'default';
  return {
    team,
    version: 1,
    launch: options.launch,
    model: {
      base: 'tiny-llama',
      architecture: 'LlamaForCausalLM',
      suffix: null,
      fine_tuned_name: `ft:tiny-llama:${team}::${id.slice(6).toLowerCase()}`,
    },
    job: {
      id,
      object: 'fine_tuning.job',
      created_at: 1_700_000_000,
      error: null,
      fine_tuned_model: null,
      finished_at: null,
      hyperparameters: { batch_size: 'auto', learning_rate_multiplier: 'auto', n_epochs: 'auto' },
      model: 'tiny-llama',
      organization_id: team,
      result_files: [],
      seed: 1,
      status: options.status ?? 'queued',
      trained_tokens: null,
      training_file: newId('file'),
      validation_file: null,
      metadata: null,
      whetstone: {
        options: whetstoneOptionsSchema.parse({}),
        desired_status: options.desired ?? 'running',
        attempts: options.attempts ?? [],
      },
    },
  };
}

import { z } from 'zod';
import { DESIRED_STATUSES } from '../jobs/lifecycle';
import { metadataSchema, unixSeconds } from './common';

/** OpenAI's statuses plus `paused`, which OpenAI's pause/resume endpoints also produce. */
export const JOB_STATUSES = [
  'validating_files',
  'queued',
  'running',
  'paused',
  'succeeded',
  'failed',
  'cancelled',
] as const;
export const jobStatusSchema = z.enum(JOB_STATUSES);
export type JobStatus = z.infer<typeof jobStatusSchema>;

const auto = z.literal('auto');
export const hyperparametersSchema = z.object({
  batch_size: z.union([auto, z.number().int().min(1).max(256)]),
  learning_rate_multiplier: z.union([auto, z.number().positive()]),
  n_epochs: z.union([auto, z.number().int().min(1).max(50)]),
});
export type Hyperparameters = z.infer<typeof hyperparametersSchema>;

export const jobErrorSchema = z.object({
  code: z.string(),
  message: z.string(),
  param: z.string().nullable(),
});

export const TRAINING_METHODS = ['lora', 'full', 'partial'] as const;
/** Accelerators a job can ask for; `none` runs on CPU instances (the engine's native back end). */
export const GPU_TYPES = ['none', 'a10g', 'l4', 'l40s', 'a100', 'h100'] as const;
export const MARKETS = ['spot', 'on-demand'] as const;
export type GpuType = (typeof GPU_TYPES)[number];
export type Market = (typeof MARKETS)[number];
export const DEFAULT_LORA_TARGET_MODULES = ['q_proj', 'k_proj', 'v_proj', 'o_proj'] as const;
/**
 * A fraction or rate: 0, or at least one millionth. Smaller non-zero values mean nothing to
 * training and could not be stored (DynamoDB numbers stop at 1e-130).
 */
function smallNumber(max: number) {
  return z
    .number()
    .min(0)
    .max(max)
    .refine((value) => value === 0 || value >= 1e-6, { message: 'must be 0 or at least 0.000001' });
}
const moduleName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_.]{0,63}$/, 'must be a module name such as q_proj');

/**
 * Whetstone's own training options, sent in the create body's `whetstone` object (the SDK passes
 * unknown body fields through). Every field has a default, so `{}` or no object at all is valid;
 * the job object shows them resolved.
 */
export const whetstoneOptionsSchema = z.strictObject({
  training_method: z.enum(TRAINING_METHODS).default('lora'),
  lora: z
    .strictObject({
      rank: z.number().int().min(1).max(256).default(8),
      alpha: z.number().min(0.001).max(1024).default(16),
      dropout: smallNumber(0.9).default(0.05),
      target_modules: z
        .union([z.literal('all-linear'), z.array(moduleName).min(1).max(32)])
        .default([...DEFAULT_LORA_TARGET_MODULES]),
    })
    .prefault({}),
  /** For `partial`: the decoder layers (0-based) and/or the modules whose weights train. */
  partial: z
    .strictObject({
      layers: z.array(z.number().int().min(0).max(1023)).min(1).max(1024).optional(),
      modules: z.array(moduleName).min(1).max(32).optional(),
    })
    .refine((value) => value.layers !== undefined || value.modules !== undefined, {
      message: 'names the layers or the modules to train',
    })
    .nullable()
    .default(null),
  max_seq_length: z.number().int().min(16).max(131_072).default(2048),
  /** Fraction of the training steps spent warming the learning rate up linearly. */
  warmup_ratio: smallNumber(0.5).default(0.03),
  weight_decay: smallNumber(1).default(0),
  gpu_type: z.enum(GPU_TYPES).default('none'),
  market: z.enum(MARKETS).default('spot'),
  /** Stop the job when its cost reaches this many US dollars; `null`: no cap beyond the team budget. */
  max_cost_usd: z.number().min(0.01).max(1_000_000).nullable().default(null),
  /** Pack short training examples together into rows of up to max_seq_length tokens; each still attends only to itself. */
  packing: z.boolean().default(false),
  /** Also checkpoint every this many steps; `null`: at each epoch end and on every stop request only. */
  checkpoint_interval_steps: z.number().int().min(1).max(1_000_000).nullable().default(null),
  /** Limit on each attempt's run time. */
  max_runtime_minutes: z
    .number()
    .int()
    .min(1)
    .max(14 * 24 * 60)
    .default(24 * 60),
});
export type WhetstoneOptionsInput = z.input<typeof whetstoneOptionsSchema>;
export type WhetstoneOptions = z.infer<typeof whetstoneOptionsSchema>;

export const attemptSchema = z.object({
  /** Launches count from 1; a resume is a new launch. */
  launch: z.number().int().min(1),
  /** Attempts within a launch count from 1, as AWS_BATCH_JOB_ATTEMPT. */
  attempt: z.number().int().min(1),
  compute_job_id: z.string(),
  started_at: unixSeconds.nullable(),
  stopped_at: unixSeconds.nullable(),
  exit_code: z.number().int().nullable(),
  reason: z.string().nullable(),
  instance_type: z.string().nullable(),
  /** `local` on the local platform, which has no market. */
  market: z.enum([...MARKETS, 'local']).nullable(),
  /** Where the attempt ran, as its trainer read it; absent on records older than the field. */
  region: z.string().nullable().default(null),
});
export type JobAttempt = z.infer<typeof attemptSchema>;

/** Whetstone's extension of the job object: resolved options, stop intent and every attempt. */
export const jobExtensionSchema = z.object({
  options: whetstoneOptionsSchema,
  desired_status: z.enum(DESIRED_STATUSES),
  attempts: z.array(attemptSchema),
});
export type JobExtension = z.infer<typeof jobExtensionSchema>;

/** OpenAI's integration object on a job (Weights & Biases, its only kind); Whetstone takes none yet. */
export const wandbIntegrationSchema = z.object({
  type: z.literal('wandb'),
  wandb: z.object({
    project: z.string(),
    entity: z.string().nullable().optional(),
    name: z.string().nullable().optional(),
    tags: z.array(z.string()).optional(),
  }),
});

export const fineTuningJobSchema = z.object({
  id: z.string(),
  object: z.literal('fine_tuning.job'),
  created_at: unixSeconds,
  error: jobErrorSchema.nullable(),
  fine_tuned_model: z.string().nullable(),
  finished_at: unixSeconds.nullable(),
  hyperparameters: hyperparametersSchema,
  model: z.string(),
  organization_id: z.string(),
  result_files: z.array(z.string()),
  seed: z.number().int(),
  status: jobStatusSchema,
  trained_tokens: z.number().int().nullable(),
  training_file: z.string(),
  validation_file: z.string().nullable(),
  estimated_finish: unixSeconds.nullable().optional(),
  integrations: z.array(wandbIntegrationSchema).nullable().optional(),
  metadata: metadataSchema.nullable().optional(),
  method: z
    .object({
      type: z.enum(['supervised', 'dpo', 'reinforcement']),
      supervised: z.object({ hyperparameters: hyperparametersSchema }).optional(),
    })
    .optional(),
  whetstone: jobExtensionSchema.optional(),
});
export type FineTuningJob = z.infer<typeof fineTuningJobSchema>;

export const jobEventSchema = z.object({
  id: z.string(),
  object: z.literal('fine_tuning.job.event'),
  created_at: unixSeconds,
  level: z.enum(['info', 'warn', 'error']),
  message: z.string(),
  data: z.record(z.string(), z.unknown()).nullable().optional(),
  type: z.enum(['message', 'metrics']).optional(),
});
export type JobEvent = z.infer<typeof jobEventSchema>;

export const checkpointMetricsSchema = z.object({
  step: z.number().int().nonnegative(),
  train_loss: z.number().optional(),
  train_mean_token_accuracy: z.number().optional(),
  valid_loss: z.number().optional(),
  valid_mean_token_accuracy: z.number().optional(),
  full_valid_loss: z.number().optional(),
  full_valid_mean_token_accuracy: z.number().optional(),
});

export const jobCheckpointSchema = z.object({
  id: z.string(),
  object: z.literal('fine_tuning.job.checkpoint'),
  created_at: unixSeconds,
  fine_tuned_model_checkpoint: z.string(),
  fine_tuning_job_id: z.string(),
  step_number: z.number().int().nonnegative(),
  metrics: checkpointMetricsSchema,
});
export type JobCheckpoint = z.infer<typeof jobCheckpointSchema>;

const hyperparametersInputSchema = z.strictObject({
  batch_size: hyperparametersSchema.shape.batch_size.optional(),
  learning_rate_multiplier: z.union([auto, z.number().min(0.000001).max(100)]).optional(),
  n_epochs: hyperparametersSchema.shape.n_epochs.optional(),
});
export type HyperparametersInput = z.infer<typeof hyperparametersInputSchema>;

/** Characters of a `suffix`: it becomes one `:`-separated segment of the fine-tuned model's name. */
export const SUFFIX_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** OpenAI's create parameters, plus Whetstone's `whetstone` object. Unknown fields are refused by name. */
export const createJobRequestSchema = z
  .strictObject({
    model: z.string().min(1).max(256),
    training_file: z.string().min(1).max(64),
    validation_file: z.string().min(1).max(64).nullable().optional(),
    /** Deprecated upstream in favour of `method.supervised.hyperparameters`; still honoured. */
    hyperparameters: hyperparametersInputSchema.optional(),
    method: z
      .strictObject({
        type: z.enum(['supervised', 'dpo', 'reinforcement']),
        supervised: z.strictObject({ hyperparameters: hyperparametersInputSchema.optional() }).optional(),
        dpo: z.unknown().optional(),
        reinforcement: z.unknown().optional(),
      })
      .superRefine((method, context) => {
        if (method.type !== 'supervised') {
          context.addIssue({
            code: 'custom',
            path: ['type'],
            message: `'${method.type}' fine-tuning is not supported; use 'supervised'`,
          });
        }
      })
      .optional(),
    suffix: z
      .string()
      .regex(
        SUFFIX_PATTERN,
        'must be 1-64 letters, digits, dots, underscores or hyphens, starting with a letter or digit',
      )
      .nullable()
      .optional(),
    seed: z.number().int().min(0).max(2_147_483_647).nullable().optional(),
    metadata: metadataSchema.nullable().optional(),
    integrations: z.array(z.unknown()).max(0, 'integrations are not supported').nullable().optional(),
    whetstone: whetstoneOptionsSchema.optional(),
  })
  .superRefine((request, context) => {
    if (request.hyperparameters && request.method?.supervised?.hyperparameters) {
      context.addIssue({
        code: 'custom',
        path: ['hyperparameters'],
        message: 'is deprecated; give method.supervised.hyperparameters alone, not both',
      });
    }
    const options = request.whetstone;
    if (options && (options.training_method === 'partial') !== (options.partial !== null)) {
      context.addIssue({
        code: 'custom',
        path: ['whetstone', 'partial'],
        message:
          options.training_method === 'partial'
            ? "is required when training_method is 'partial'"
            : "applies only when training_method is 'partial'",
      });
    }
  });
export type CreateJobRequest = z.infer<typeof createJobRequestSchema>;

/** Internal record of how far the job's compute has got; never shown. */
export const jobLaunchSchema = z.object({
  /** 0 before the first launch; a resume makes a new launch. */
  number: z.number().int().min(0),
  /**
   * `waiting`: queued for a free slot of the team's running-job limit; `submitting`: holds a slot,
   * the launcher call is under way; `submitted`: the compute has the job; `ended`: slot released.
   */
  state: z.enum(['none', 'waiting', 'submitting', 'submitted', 'ended']),
  compute_job_id: z.string().nullable(),
  /**
   * The queue the compute job went to (a Batch job queue ARN in AWS), recorded with
   * `compute_job_id`: its region is where TerminateJob must go. Absent on launches recorded
   * before the field and on those not yet submitted; the launcher then uses its default region.
   */
  compute_queue: z.string().optional(),
  progress: z.object({ attempt: z.number().int().min(0), phase: z.number().int().min(0) }).nullable(),
});
export type JobLaunch = z.infer<typeof jobLaunchSchema>;

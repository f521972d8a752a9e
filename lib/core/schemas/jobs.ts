import { z } from 'zod';
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
  integrations: z.array(z.unknown()).nullable().optional(),
  metadata: metadataSchema.nullable().optional(),
  method: z
    .object({
      type: z.enum(['supervised', 'dpo', 'reinforcement']),
      supervised: z.object({ hyperparameters: hyperparametersSchema }).optional(),
    })
    .optional(),
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

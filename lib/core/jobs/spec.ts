import { z } from 'zod';
import { hyperparametersSchema, whetstoneOptionsSchema } from '../schemas/jobs';
import { SUPPORTED_ARCHITECTURES } from '../schemas/models';

/**
 * `artifacts/{team}/{job}/spec.json`: everything the trainer needs to run the job, written once
 * by the create handler before launch. Locations are `s3://bucket/key` URIs.
 */
export const jobSpecSchema = z.object({
  spec_version: z.literal(1),
  job_id: z.string(),
  team: z.string(),
  created_at: z.number().int(),
  model: z.object({
    /** What the request named: a base model or one of the team's fine-tuned models. */
    requested: z.string(),
    /** The registered base model at the root. */
    base: z.string(),
    architecture: z.enum(SUPPORTED_ARCHITECTURES),
    /** The base model's Hugging Face folder. */
    uri: z.string(),
    /** When fine-tuning a fine-tuned model: its adapter or model folder, applied first. */
    parent_uri: z.string().nullable(),
  }),
  training_file: z.object({ id: z.string(), uri: z.string(), bytes: z.number().int() }),
  validation_file: z.object({ id: z.string(), uri: z.string(), bytes: z.number().int() }).nullable(),
  /** As requested; `auto` values are resolved by the trainer from the dataset. */
  hyperparameters: hyperparametersSchema,
  seed: z.number().int(),
  suffix: z.string().nullable(),
  fine_tuned_model: z.string(),
  options: whetstoneOptionsSchema,
  /** Folder of everything the job writes. */
  output_uri: z.string(),
});
export type JobSpec = z.infer<typeof jobSpecSchema>;

export function s3Uri(bucket: string, key: string): string {
  return `s3://${bucket}/${key}`;
}

/** Splits `s3://bucket/key`; `undefined` for anything else. */
export function parseS3Uri(uri: string): { readonly bucket: string; readonly key: string } | undefined {
  const match = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])\/(.*)$/.exec(uri);
  return match ? { bucket: match[1] as string, key: match[2] as string } : undefined;
}

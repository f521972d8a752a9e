import { z } from 'zod';
import { unixSeconds } from './common';

/** Base model ids: the name a job's `model` gives, and the folder under `models/` in the bucket. */
export const BASE_MODEL_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,95}$/;
/** Decoder architectures the engine trains (config.json `architectures[0]`). */
export const SUPPORTED_ARCHITECTURES = [
  'LlamaForCausalLM',
  'MistralForCausalLM',
  'Qwen2ForCausalLM',
] as const;

/** OpenAI's model object, with Whetstone's description of where it comes from. */
export const modelObjectSchema = z.object({
  id: z.string(),
  object: z.literal('model'),
  created: unixSeconds,
  owned_by: z.string(),
  whetstone: z
    .object({
      kind: z.enum(['base', 'fine-tuned']),
      architecture: z.string(),
      /** For a fine-tuned model: the base model it was trained from (a registered base model). */
      base_model: z.string().nullable(),
      /** For a fine-tuned model: the job that made it. */
      job_id: z.string().nullable(),
    })
    .optional(),
});
export type ModelObject = z.infer<typeof modelObjectSchema>;

export const modelDeletedSchema = z.object({
  id: z.string(),
  object: z.literal('model'),
  deleted: z.boolean(),
});

/** A registered base model: the deployment's, visible to every team. */
export const baseModelSchema = z.object({
  id: z.string().regex(BASE_MODEL_ID_PATTERN),
  architecture: z.enum(SUPPORTED_ARCHITECTURES),
  /** S3 key prefix of the Hugging Face layout (`config.json`, safetensors, tokenizer), ending in `/`. */
  prefix: z.string(),
  created: unixSeconds,
});
export type BaseModel = z.infer<typeof baseModelSchema>;

/** A team's fine-tuned model, made when its job succeeds. */
export const fineTunedModelSchema = z.object({
  id: z.string(),
  team: z.string(),
  job_id: z.string(),
  /** The registered base model at the root of the chain. */
  base_model: z.string(),
  architecture: z.enum(SUPPORTED_ARCHITECTURES),
  /** S3 key prefix of the adapter (PEFT layout) or the full model, ending in `/`. */
  prefix: z.string(),
  created: unixSeconds,
});
export type FineTunedModel = z.infer<typeof fineTunedModelSchema>;

export const registerModelRequestSchema = z.strictObject({
  id: z.string().regex(BASE_MODEL_ID_PATTERN, 'must be 1-96 letters, digits, dots, underscores or hyphens'),
  /** Where the files already are; default `models/{id}/` in the data bucket. */
  prefix: z
    .string()
    .regex(/^models\/[A-Za-z0-9._\-/]{1,200}\/$/, "must be a key prefix under 'models/' ending in '/'")
    .optional(),
});

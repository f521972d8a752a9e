import { z } from 'zod';
import { unixSeconds } from './common';

/** OpenAI's limit for a fine-tuning file. */
export const MAX_FILE_BYTES = 512 * 1024 * 1024;
/** What a client may upload a file for. */
export const UPLOAD_PURPOSES = ['fine-tune'] as const;
/** What a file is for: uploaded for fine-tuning, or a job's result file (OpenAI's `fine-tune-results`). */
export const FILE_PURPOSES = ['fine-tune', 'fine-tune-results'] as const;
export const FILE_STATUSES = ['uploaded', 'processed', 'error'] as const;

export const datasetProblemSchema = z.object({
  line: z.number().int().positive().nullable(),
  code: z.string(),
  message: z.string(),
});

/** Whetstone's validation result, carried on the file object beside OpenAI's `status_details`. */
export const fileValidationSchema = z.object({
  format: z.enum(['chat', 'prompt_completion']).nullable(),
  examples: z.number().int().nonnegative(),
  estimated_tokens: z.number().int().nonnegative(),
  problem_count: z.number().int().nonnegative(),
  problems: z.array(datasetProblemSchema),
});
export type FileValidation = z.infer<typeof fileValidationSchema>;

export const fileObjectSchema = z.object({
  id: z.string(),
  object: z.literal('file'),
  bytes: z.number().int().nonnegative(),
  created_at: unixSeconds,
  expires_at: unixSeconds.nullable(),
  filename: z.string(),
  purpose: z.enum(FILE_PURPOSES),
  status: z.enum(FILE_STATUSES),
  status_details: z.string().nullable(),
  whetstone: z.object({ validation: fileValidationSchema.nullable() }),
});
export type FileObject = z.infer<typeof fileObjectSchema>;

export const fileDeletedSchema = z.object({
  id: z.string(),
  object: z.literal('file'),
  deleted: z.literal(true),
});

/** Filenames travel in headers and listings; path separators and control characters are refused. */
export const filenameSchema = z
  .string()
  .min(1)
  .max(255)
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
  .refine((name) => !/[/\\\u0000-\u001f\u007f]/.test(name), {
    message: 'must not contain path separators or control characters',
  })
  .refine((name) => name.isWellFormed(), { message: 'must be well-formed Unicode (no lone surrogates)' });

export const listFilesQuerySchema = z.strictObject({
  after: z.string().min(1).max(64).optional(),
  limit: z.coerce.number().int().min(1).max(10_000).default(10_000),
  order: z.enum(['asc', 'desc']).default('desc'),
  purpose: z.enum(FILE_PURPOSES).optional(),
});

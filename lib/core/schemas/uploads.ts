import { z } from 'zod';
import { unixSeconds } from './common';
import { filenameSchema, fileObjectSchema, MAX_FILE_BYTES, UPLOAD_PURPOSES } from './files';

/** OpenAI expires an upload an hour after it is created. */
export const UPLOAD_TTL_SECONDS = 60 * 60;
/** S3 refuses multipart parts below 5 MiB, except the last one. */
export const MIN_UPLOAD_PART_BYTES = 5 * 1024 * 1024;
export const MAX_UPLOAD_PARTS = 10_000;
export const UPLOAD_STATUSES = ['pending', 'completed', 'cancelled', 'expired'] as const;
/** Training files are JSONL; these are the names clients use for it. */
export const JSONL_MIME_TYPES = [
  'application/jsonl',
  'application/x-ndjson',
  'application/json',
  'text/jsonl',
] as const;

export const uploadObjectSchema = z.object({
  id: z.string(),
  object: z.literal('upload'),
  bytes: z.number().int().nonnegative(),
  created_at: unixSeconds,
  expires_at: unixSeconds,
  filename: z.string(),
  purpose: z.enum(UPLOAD_PURPOSES),
  status: z.enum(UPLOAD_STATUSES),
  file: fileObjectSchema.nullable(),
});
export type UploadObject = z.infer<typeof uploadObjectSchema>;

export const uploadPartObjectSchema = z.object({
  id: z.string(),
  object: z.literal('upload.part'),
  created_at: unixSeconds,
  upload_id: z.string(),
});
export type UploadPartObject = z.infer<typeof uploadPartObjectSchema>;

export const createUploadRequestSchema = z.strictObject({
  bytes: z.number().int().positive().max(MAX_FILE_BYTES),
  filename: filenameSchema,
  mime_type: z.enum(JSONL_MIME_TYPES),
  purpose: z.enum(UPLOAD_PURPOSES),
});
export type CreateUploadRequest = z.infer<typeof createUploadRequestSchema>;

export const completeUploadRequestSchema = z.strictObject({
  part_ids: z.array(z.string().min(1).max(64)).min(1).max(MAX_UPLOAD_PARTS),
  md5: z
    .string()
    .regex(/^[0-9a-f]{32}$/i, 'must be 32 hexadecimal digits')
    .optional(),
});

/** Whetstone's extension: presigned URLs, so large parts go to S3 without crossing the API. */
export const createPresignedUploadRequestSchema = createUploadRequestSchema.extend({
  part_bytes: z.number().int().min(MIN_UPLOAD_PART_BYTES).max(MAX_FILE_BYTES).optional(),
});

export const completePresignedUploadRequestSchema = z.strictObject({
  parts: z
    .array(
      z.strictObject({ part_number: z.number().int().min(1).max(MAX_UPLOAD_PARTS), etag: z.string().min(1) }),
    )
    .min(1)
    .max(MAX_UPLOAD_PARTS),
  md5: z
    .string()
    .regex(/^[0-9a-f]{32}$/i, 'must be 32 hexadecimal digits')
    .optional(),
});

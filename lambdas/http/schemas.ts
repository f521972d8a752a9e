import { z } from 'zod';
import { filenameSchema } from '../../lib/core/schemas';
import type { UploadedFile } from './types';

export function isUploadedFile(value: unknown): value is UploadedFile {
  return typeof value === 'object' && value !== null && Buffer.isBuffer((value as UploadedFile).content);
}

/** A file part of a multipart form, with a filename fit to store and list. */
export const uploadedFileSchema = z
  .custom<UploadedFile>(isUploadedFile, {
    message: 'must be a file part (with a filename), not a plain field',
  })
  .superRefine((file, context) => {
    const name = filenameSchema.safeParse(file.filename);
    if (!name.success)
      context.addIssue({ code: 'custom', message: `filename ${name.error.issues[0]?.message}` });
  });

/** A multipart part holding an upload part's bytes; its filename, if any, is not used. */
export const uploadPartSchema = z.custom<UploadedFile>(isUploadedFile, {
  message: 'must be a file part holding the bytes, not a plain field',
});

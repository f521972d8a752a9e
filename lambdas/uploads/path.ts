import { z } from 'zod';

export const uploadPathSchema = z.object({ upload_id: z.string() });
/** Uploads make files, so they admit the roles that may write files. */
export const UPLOAD_ROLES = ['member', 'admin', 'owner'] as const;

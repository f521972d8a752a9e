import { z } from 'zod';

export const filePathSchema = z.object({ file_id: z.string() });
export const FILE_READER_ROLES = ['member', 'admin', 'owner'] as const;

import { z } from 'zod';

export const filePathSchema = z.object({ file_id: z.string() });
/** Who works with a team's files: everyone but finance, which reads costs only. */
export const FILE_ROLES = ['member', 'admin', 'owner'] as const;

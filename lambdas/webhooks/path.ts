import { z } from 'zod';

export const webhookPathSchema = z.object({ webhook_id: z.string() });
/** Who reads a team's endpoints and delivery log: everyone but finance, which reads costs only. */
export const WEBHOOK_READER_ROLES = ['member', 'admin', 'owner'] as const;
/** Endpoints receive the team's job notifications, so only the team's administrators change them. */
export const WEBHOOK_MANAGER_ROLES = ['admin', 'owner'] as const;

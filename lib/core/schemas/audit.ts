import { z } from 'zod';
import { pageQuerySchema, unixSeconds } from './common';
import { roleSchema, teamIdSchema } from './teams';

/** One mutating call: who made it, what it asked, when, and how it ended. */
export const auditRecordSchema = z.object({
  id: z.string(),
  object: z.literal('whetstone.audit_record'),
  created_at: unixSeconds,
  team: z.string(),
  actor_key_id: z.string(),
  actor_role: roleSchema,
  action: z.string(),
  resource_id: z.string().nullable(),
  status_code: z.number().int(),
  request_id: z.string(),
});
export type AuditRecord = z.infer<typeof auditRecordSchema>;

export const listAuditQuerySchema = pageQuerySchema.extend({ team: teamIdSchema.optional() });

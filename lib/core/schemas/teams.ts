import { z } from 'zod';
import { TEAM_ID_PATTERN } from '../ids';
import { unixSeconds } from './common';

/**
 * `member`: the team's files, jobs, models and costs. `admin`: also the team's keys and budget.
 * `finance`: reads cost records of every team. `owner`: the deployment; creates teams and keys
 * for any team.
 */
export const ROLES = ['member', 'admin', 'finance', 'owner'] as const;
export const roleSchema = z.enum(ROLES);
export type Role = z.infer<typeof roleSchema>;

export const teamIdSchema = z
  .string()
  .regex(
    TEAM_ID_PATTERN,
    'must be 1-40 lowercase letters, digits or hyphens, starting and ending alphanumeric',
  );

export const teamSchema = z.object({
  id: teamIdSchema,
  object: z.literal('whetstone.team'),
  name: z.string(),
  created_at: unixSeconds,
});
export type Team = z.infer<typeof teamSchema>;

export const createTeamRequestSchema = z.strictObject({
  id: teamIdSchema,
  name: z.string().min(1).max(128).optional(),
});

/** A key as listed: never the secret, only its last four characters to tell keys apart. */
export const apiKeySchema = z.object({
  id: z.string(),
  object: z.literal('whetstone.api_key'),
  team: teamIdSchema,
  role: roleSchema,
  name: z.string().nullable(),
  redacted_value: z.string(),
  created_at: unixSeconds,
  created_by: z.string().nullable(),
  expires_at: unixSeconds.nullable(),
  revoked_at: unixSeconds.nullable(),
});
export type ApiKey = z.infer<typeof apiKeySchema>;

/** Returned once, by create: the only time the secret leaves the server. */
export const createdApiKeySchema = apiKeySchema.extend({ value: z.string() });
export type CreatedApiKey = z.infer<typeof createdApiKeySchema>;

export const createApiKeyRequestSchema = z.strictObject({
  team: teamIdSchema.optional(),
  role: roleSchema.default('member'),
  name: z.string().min(1).max(128).optional(),
  expires_at: unixSeconds.optional(),
});

/** Who is calling, as the authorizer established it. */
export interface Principal {
  readonly keyId: string;
  readonly team: string;
  readonly role: Role;
}

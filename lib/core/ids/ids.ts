import { monotonicFactory } from 'ulid';

/**
 * Ids are a type prefix plus a ULID: 26 Crockford base-32 characters whose first ten encode the
 * creation time in milliseconds. Ids of one kind therefore sort by creation time as plain strings,
 * which is what DynamoDB sort keys and OpenAI's newest-first, `after`-cursor pagination need.
 * The monotonic factory keeps ids minted within the same millisecond in order too.
 */
export const ID_PREFIXES = {
  file: 'file-',
  job: 'ftjob-',
  event: 'ftevent-',
  checkpoint: 'ftckpt_',
  upload: 'upload_',
  uploadPart: 'part_',
  apiKey: 'key_',
  audit: 'audit_',
  webhook: 'wh_',
  webhookEvent: 'evt_',
  webhookDelivery: 'whdel_',
} as const;

export type IdKind = keyof typeof ID_PREFIXES;

const ULID_PATTERN = '[0-9A-HJKMNP-TV-Z]{26}';
const nextUlid = monotonicFactory();

export function newId(kind: IdKind, now: number = Date.now()): string {
  return `${ID_PREFIXES[kind]}${nextUlid(now)}`;
}

const idPatterns = Object.fromEntries(
  Object.entries(ID_PREFIXES).map(([kind, prefix]) => [kind, new RegExp(`^${prefix}${ULID_PATTERN}$`)]),
) as Record<IdKind, RegExp>;

export function isId(kind: IdKind, value: string): boolean {
  return idPatterns[kind].test(value);
}

/** Team ids appear in S3 keys and DynamoDB keys, so they are kept to a conservative alphabet. */
export const TEAM_ID_PATTERN = /^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$/;

import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * A key reads `whet_<ULID>_<secret>`: the ULID names the stored record (`key_<ULID>`), so the
 * authorizer finds the record with one strongly consistent read, and only the SHA-256 of the
 * 256-bit random secret is stored. A fast hash is sound here because the secret is random, not a
 * password; comparison is constant-time so response timing says nothing about the stored hash.
 */
const KEY_VALUE_PATTERN = /^whet_([0-9A-HJKMNP-TV-Z]{26})_([A-Za-z0-9_-]{43})$/;
const SECRET_BYTES = 32;

export interface ParsedApiKey {
  readonly keyId: string;
  readonly secret: string;
}

export interface GeneratedApiKey {
  readonly value: string;
  readonly secretHash: string;
  readonly redactedValue: string;
}

export function generateApiKey(keyId: string): GeneratedApiKey {
  const ulid = keyId.replace(/^key_/, '');
  const secret = randomBytes(SECRET_BYTES).toString('base64url');
  const value = `whet_${ulid}_${secret}`;
  return { value, secretHash: hashSecret(secret), redactedValue: redactApiKey(value) };
}

export function parseApiKey(value: string): ParsedApiKey | null {
  const match = KEY_VALUE_PATTERN.exec(value);
  if (!match?.[1] || !match[2]) return null;
  return { keyId: `key_${match[1]}`, secret: match[2] };
}

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

export function secretMatches(secret: string, storedHash: string): boolean {
  const actual = Buffer.from(hashSecret(secret), 'hex');
  const expected = Buffer.from(storedHash, 'hex');
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

export function redactApiKey(value: string): string {
  return `whet_...${value.slice(-4)}`;
}

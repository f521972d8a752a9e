import type { ApiKeyStore } from '../../lib/adapters';
import { parseApiKey, secretMatches } from '../../lib/core/auth';
import type { Principal } from '../../lib/core/schemas';

/** Why a key was refused; logged, never told to the caller. */
export type RefusalReason = 'missing' | 'malformed' | 'unknown' | 'wrong_secret' | 'revoked' | 'expired';

export type Authentication =
  | { readonly ok: true; readonly principal: Principal }
  | { readonly ok: false; readonly reason: RefusalReason };

export async function authenticate(
  apiKeys: ApiKeyStore,
  authorizationHeader: string | undefined,
  nowSeconds: number,
): Promise<Authentication> {
  if (!authorizationHeader) return { ok: false, reason: 'missing' };
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorizationHeader);
  const parsed = match?.[1] ? parseApiKey(match[1]) : null;
  if (!parsed) return { ok: false, reason: 'malformed' };
  const stored = await apiKeys.get(parsed.keyId);
  if (!stored) return { ok: false, reason: 'unknown' };
  if (!secretMatches(parsed.secret, stored.secret_hash)) return { ok: false, reason: 'wrong_secret' };
  if (stored.revoked_at !== null) return { ok: false, reason: 'revoked' };
  if (stored.expires_at !== null && stored.expires_at <= nowSeconds) return { ok: false, reason: 'expired' };
  return { ok: true, principal: { keyId: stored.id, team: stored.team, role: stored.role } };
}

import { issueApiKey, type KeyServiceStores } from '../../lambdas/keys/service';
import { createTeam } from '../../lambdas/teams/service';
import { type ApiKeyStore, everyItem, type TeamStore } from '../adapters';
import { parseApiKey, secretMatches } from '../core/auth';
import { ConflictError } from '../core/errors';
import type { ApiKey, CreatedApiKey } from '../core/schemas';

/**
 * The team a new deployment starts with, and its first owner key: made by the local platform's
 * first start and by `whet aws init` against a deployed table, with these same functions, so the
 * two deployments begin alike.
 */
export const DEFAULT_TEAM = 'default';

/** Creates team `default` unless it exists; true when this call made it. */
export async function ensureDefaultTeam(teams: TeamStore, now: number): Promise<boolean> {
  if (await teams.get(DEFAULT_TEAM)) return false;
  try {
    await createTeam(teams, { id: DEFAULT_TEAM, name: 'Default team' }, now);
    return true;
  } catch (error) {
    // Someone else made it between the read and the write: it exists, which is all that is asked.
    if (error instanceof ConflictError) return false;
    throw error;
  }
}

/** Mints an owner key of team `default`; nobody asked for it through the API, so it has no creator. */
export function issueOwnerKey(stores: KeyServiceStores, name: string, now: number): Promise<CreatedApiKey> {
  return issueApiKey(stores, { team: DEFAULT_TEAM, role: 'owner', name, createdBy: null }, now);
}

/** Whether a key would pass the authorizer as an owner, its secret aside. */
function isLiveOwner(key: ApiKey, nowSeconds: number): boolean {
  return (
    key.role === 'owner' &&
    key.revoked_at === null &&
    (key.expires_at === null || key.expires_at > nowSeconds)
  );
}

/** Whether a key's full value (a saved one, say) would still pass the authorizer as an owner. */
export async function isLiveOwnerKey(
  apiKeys: ApiKeyStore,
  value: string,
  nowSeconds: number,
): Promise<boolean> {
  const parsed = parseApiKey(value);
  const stored = parsed ? await apiKeys.get(parsed.keyId) : undefined;
  return (
    parsed !== null &&
    stored !== undefined &&
    secretMatches(parsed.secret, stored.secret_hash) &&
    isLiveOwner(stored, nowSeconds)
  );
}

/** Whether team `default` holds an owner key that is neither revoked nor expired. */
export async function liveOwnerKeyExists(apiKeys: ApiKeyStore, nowSeconds: number): Promise<boolean> {
  const keys = everyItem((after) =>
    apiKeys.listByTeam(DEFAULT_TEAM, { limit: 100, ...(after ? { after } : {}) }),
  );
  for await (const key of keys) if (isLiveOwner(key, nowSeconds)) return true;
  return false;
}

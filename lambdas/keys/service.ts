import type { ApiKeyStore, Page, TeamStore } from '../../lib/adapters';
import { canGrantRole, generateApiKey, keyOfRole, targetTeam } from '../../lib/core/auth';
import { InvalidRequestError, NotFoundError, PermissionDeniedError } from '../../lib/core/errors';
import { isId, newId } from '../../lib/core/ids';
import type { ApiKey, CreatedApiKey, Principal, Role } from '../../lib/core/schemas';

export interface KeyServiceStores {
  readonly teams: TeamStore;
  readonly apiKeys: ApiKeyStore;
}

export interface IssueKeyRequest {
  readonly team: string;
  readonly role: Role;
  readonly name?: string;
  readonly expiresAt?: number;
  /** The key that asked; null for the key the platform makes for itself at first start. */
  readonly createdBy: string | null;
}

/** Mints a key without asking who may: callers check permissions first. */
export async function issueApiKey(
  stores: KeyServiceStores,
  request: IssueKeyRequest,
  now: number,
): Promise<CreatedApiKey> {
  const id = newId('apiKey', now);
  const generated = generateApiKey(id);
  const key: ApiKey = {
    id,
    object: 'whetstone.api_key',
    team: request.team,
    role: request.role,
    name: request.name ?? null,
    redacted_value: generated.redactedValue,
    created_at: Math.floor(now / 1000),
    created_by: request.createdBy,
    expires_at: request.expiresAt ?? null,
    revoked_at: null,
  };
  await stores.apiKeys.create({ ...key, secret_hash: generated.secretHash });
  return { ...key, value: generated.value };
}

export async function createApiKey(
  stores: KeyServiceStores,
  principal: Principal,
  request: {
    readonly team?: string;
    readonly role: Role;
    readonly name?: string;
    readonly expires_at?: number;
  },
  now: number,
): Promise<CreatedApiKey> {
  const team = targetTeam(principal, request.team);
  if (!canGrantRole(principal, request.role)) {
    throw new PermissionDeniedError(`${keyOfRole(principal.role)} cannot create ${request.role} keys.`, {
      param: 'role',
    });
  }
  if (request.expires_at !== undefined && request.expires_at <= Math.floor(now / 1000)) {
    throw new InvalidRequestError('expires_at must be in the future (seconds since the epoch).', {
      param: 'expires_at',
    });
  }
  if (!(await stores.teams.get(team))) throw new NotFoundError(`No such team: ${team}`, { param: 'team' });
  return issueApiKey(
    stores,
    {
      team,
      role: request.role,
      ...(request.name !== undefined ? { name: request.name } : {}),
      ...(request.expires_at !== undefined ? { expiresAt: request.expires_at } : {}),
      createdBy: principal.keyId,
    },
    now,
  );
}

export async function listApiKeys(
  stores: KeyServiceStores,
  principal: Principal,
  query: { readonly team?: string; readonly after?: string; readonly limit: number },
): Promise<Page<ApiKey>> {
  const team = targetTeam(principal, query.team);
  if (query.after !== undefined && !isId('apiKey', query.after)) {
    throw new InvalidRequestError(`after must be an API key id, not '${query.after}'.`, { param: 'after' });
  }
  if (team !== principal.team && !(await stores.teams.get(team))) {
    throw new NotFoundError(`No such team: ${team}`, { param: 'team' });
  }
  return stores.apiKeys.listByTeam(team, query);
}

/** Revoking takes the same rank as minting: an admin cannot revoke the owner's or finance's keys. */
export async function revokeApiKey(
  stores: KeyServiceStores,
  principal: Principal,
  keyId: string,
  requestedTeam: string | undefined,
  now: number,
): Promise<ApiKey> {
  const team = targetTeam(principal, requestedTeam);
  const notFound = () => new NotFoundError(`No such API key: ${keyId}`, { param: 'key_id' });
  const key = isId('apiKey', keyId) ? await stores.apiKeys.get(keyId) : undefined;
  if (!key || key.team !== team) throw notFound();
  if (!canGrantRole(principal, key.role)) {
    throw new PermissionDeniedError(`${keyOfRole(principal.role)} cannot revoke ${key.role} keys.`, {
      param: 'key_id',
    });
  }
  const revoked = await stores.apiKeys.revoke(team, keyId, Math.floor(now / 1000));
  if (!revoked) throw notFound();
  return revoked;
}

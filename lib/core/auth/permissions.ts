import { NotFoundError, PermissionDeniedError } from '../errors';
import type { Principal, Role } from '../schemas';

/**
 * Which roles may mint which: an admin manages its own team's working keys; only the owner
 * mints admin keys for other teams, finance keys and owner keys.
 */
const GRANTABLE_ROLES: Readonly<Record<Role, readonly Role[]>> = {
  owner: ['member', 'admin', 'finance', 'owner'],
  admin: ['member', 'admin'],
  member: [],
  finance: [],
};

export function requireRole(principal: Principal, allowed: readonly Role[], action: string): void {
  if (!allowed.includes(principal.role)) {
    throw new PermissionDeniedError(
      `${keyOfRole(principal.role)} cannot ${action}; this needs one of: ${allowed.join(', ')}.`,
    );
  }
}

export function canGrantRole(principal: Principal, role: Role): boolean {
  return GRANTABLE_ROLES[principal.role].includes(role);
}

/**
 * The team a call acts on: owners may name any team; everyone else only their own, and naming
 * another is answered as if that team did not exist (404, never 403).
 */
export function targetTeam(principal: Principal, requested: string | undefined, param = 'team'): string {
  if (requested === undefined) return principal.team;
  if (principal.role === 'owner' || requested === principal.team) return requested;
  throw new NotFoundError(`No such team: ${requested}`, { param });
}

/** "A member key", "An admin key": for refusals that name the caller's role. */
export function keyOfRole(role: Role): string {
  return `${/^[aeiou]/.test(role) ? 'An' : 'A'} ${role} key`;
}

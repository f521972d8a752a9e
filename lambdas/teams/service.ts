import type { Page, TeamStore } from '../../lib/adapters';
import type { Principal, Team } from '../../lib/core/schemas';

export async function createTeam(
  teams: TeamStore,
  request: { readonly id: string; readonly name?: string },
  now: number,
): Promise<Team> {
  const team: Team = {
    id: request.id,
    object: 'whetstone.team',
    name: request.name ?? request.id,
    created_at: Math.floor(now / 1000),
  };
  await teams.create(team);
  return team;
}

/** Owners see every team; anyone else only their own. */
export async function listTeams(
  teams: TeamStore,
  principal: Principal,
  page: { readonly after?: string; readonly limit: number },
): Promise<Page<Team>> {
  if (principal.role === 'owner') return teams.list(page);
  const own = await teams.get(principal.team);
  return { items: own && (page.after === undefined || own.id > page.after) ? [own] : [], hasMore: false };
}

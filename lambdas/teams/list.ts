import { listEnvelope } from '../../lib/core/schemas';
import { json } from '../http/responses';
import { route } from '../http/route';
import { ROUTE_SPECS } from '../route-specs';
import { stores } from '../runtime/dependencies';
import { listTeams } from './service';

export const handler = route(ROUTE_SPECS['teams/list'], async ({ principal, query }) => {
  const page = await listTeams(stores.teams, principal, query);
  return json(200, listEnvelope(page.items, page.hasMore));
});

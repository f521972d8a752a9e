import { json } from '../http/responses';
import { route } from '../http/route';
import { ROUTE_SPECS } from '../route-specs';
import { stores } from '../runtime/dependencies';
import { createTeam } from './service';

export const handler = route(ROUTE_SPECS['teams/create'], async ({ body }) =>
  json(200, await createTeam(stores.teams, body, Date.now())),
);

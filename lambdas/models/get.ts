import { json } from '../http/responses';
import { route } from '../http/route';
import { ROUTE_SPECS } from '../route-specs';
import { stores } from '../runtime/dependencies';
import { getModel } from './service';

export const handler = route(ROUTE_SPECS['models/get'], async ({ principal, path }) =>
  json(200, await getModel(stores, principal.team, path.model)),
);

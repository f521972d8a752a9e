import { json } from '../http/responses';
import { route } from '../http/route';
import { ROUTE_SPECS } from '../route-specs';
import { stores } from '../runtime/dependencies';
import { listModels } from './service';

export const handler = route(ROUTE_SPECS['models/list'], async ({ principal }) =>
  json(200, await listModels(stores, principal.team)),
);

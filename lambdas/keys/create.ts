import { json } from '../http/responses';
import { route } from '../http/route';
import { ROUTE_SPECS } from '../route-specs';
import { stores } from '../runtime/dependencies';
import { createApiKey } from './service';

export const handler = route(ROUTE_SPECS['keys/create'], async ({ principal, body }) =>
  json(200, await createApiKey(stores, principal, body, Date.now())),
);

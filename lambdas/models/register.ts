import { json } from '../http/responses';
import { route } from '../http/route';
import { ROUTE_SPECS } from '../route-specs';
import { stores } from '../runtime/dependencies';
import { registerBaseModel } from './service';

export const handler = route(ROUTE_SPECS['models/register'], async ({ body }) =>
  json(200, await registerBaseModel(stores, body, Date.now())),
);

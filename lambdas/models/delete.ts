import { json } from '../http/responses';
import { route } from '../http/route';
import { ROUTE_SPECS } from '../route-specs';
import { stores } from '../runtime/dependencies';
import { deleteFineTunedModel } from './service';

export const handler = route(ROUTE_SPECS['models/delete'], async ({ principal, path }) =>
  json(200, await deleteFineTunedModel(stores, principal.team, path.model)),
);

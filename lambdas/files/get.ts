import { json } from '../http/responses';
import { route } from '../http/route';
import { ROUTE_SPECS } from '../route-specs';
import { stores } from '../runtime/dependencies';
import { getFile } from './service';

export const handler = route(ROUTE_SPECS['files/get'], async ({ principal, path }) =>
  json(200, await getFile(stores, principal.team, path.file_id)),
);

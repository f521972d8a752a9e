import { json } from '../http/responses';
import { route } from '../http/route';
import { ROUTE_SPECS } from '../route-specs';
import { stores } from '../runtime/dependencies';
import { addPart } from './service';

export const handler = route(ROUTE_SPECS['uploads/add-part'], async ({ principal, path, body }) =>
  json(200, await addPart(stores, principal.team, path.upload_id, body.data.content, Date.now())),
);

import { json } from '../http/responses';
import { route } from '../http/route';
import { ROUTE_SPECS } from '../route-specs';
import { stores } from '../runtime/dependencies';
import { completeUpload } from './service';

export const handler = route(ROUTE_SPECS['uploads/complete'], async ({ principal, path, body }) =>
  json(200, await completeUpload(stores, principal.team, path.upload_id, body, Date.now())),
);

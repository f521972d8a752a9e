import { json } from '../http/responses';
import { route } from '../http/route';
import { ROUTE_SPECS } from '../route-specs';
import { stores } from '../runtime/dependencies';
import { cancelUpload } from './service';

export const handler = route(ROUTE_SPECS['uploads/cancel'], async ({ principal, path }) =>
  json(200, await cancelUpload(stores, principal.team, path.upload_id, Date.now())),
);

import { json } from '../http/responses';
import { route } from '../http/route';
import { ROUTE_SPECS } from '../route-specs';
import { stores } from '../runtime/dependencies';
import { completePresignedUpload } from './service';

export const handler = route(ROUTE_SPECS['uploads/complete-presigned'], async ({ principal, path, body }) =>
  json(200, await completePresignedUpload(stores, principal.team, path.upload_id, body, Date.now())),
);

import { json } from '../http/responses';
import { route } from '../http/route';
import { ROUTE_SPECS } from '../route-specs';
import { stores } from '../runtime/dependencies';
import { createUpload, toUploadObject } from './service';

export const handler = route(ROUTE_SPECS['uploads/create'], async ({ principal, body }) => {
  const now = Date.now();
  return json(200, toUploadObject(await createUpload(stores, principal.team, body, now), now));
});

import { json } from '../http/responses';
import { route } from '../http/route';
import { ROUTE_SPECS } from '../route-specs';
import { stores } from '../runtime/dependencies';
import { createPresignedUpload, toUploadObject } from './service';

export const handler = route(ROUTE_SPECS['uploads/create-presigned'], async ({ principal, body }) => {
  const now = Date.now();
  const { upload, partBytes, parts } = await createPresignedUpload(stores, principal.team, body, now);
  return json(200, { ...toUploadObject(upload, now), whetstone: { part_bytes: partBytes, parts } });
});

import { createPresignedUploadRequestSchema } from '../../lib/core/schemas';
import { json } from '../http/responses';
import { route } from '../http/route';
import { stores } from '../runtime/dependencies';
import { UPLOAD_ROLES } from './path';
import { createPresignedUpload, toUploadObject } from './service';

export const handler = route(
  {
    action: 'uploads.create_presigned',
    does: 'upload files',
    roles: UPLOAD_ROLES,
    mutating: true,
    body: { encoding: 'json', schema: createPresignedUploadRequestSchema },
  },
  async ({ principal, body }) => {
    const now = Date.now();
    const { upload, partBytes, parts } = await createPresignedUpload(stores, principal.team, body, now);
    return json(200, { ...toUploadObject(upload, now), whetstone: { part_bytes: partBytes, parts } });
  },
);

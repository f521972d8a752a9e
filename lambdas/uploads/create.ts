import { createUploadRequestSchema } from '../../lib/core/schemas';
import { json } from '../http/responses';
import { route } from '../http/route';
import { stores } from '../runtime/dependencies';
import { UPLOAD_ROLES } from './path';
import { createUpload, toUploadObject } from './service';

export const handler = route(
  {
    action: 'uploads.create',
    does: 'upload files',
    roles: UPLOAD_ROLES,
    mutating: true,
    body: { encoding: 'json', schema: createUploadRequestSchema },
  },
  async ({ principal, body }) => {
    const now = Date.now();
    return json(200, toUploadObject(await createUpload(stores, principal.team, body, now), now));
  },
);

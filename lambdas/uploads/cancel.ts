import { json } from '../http/responses';
import { route } from '../http/route';
import { stores } from '../runtime/dependencies';
import { UPLOAD_ROLES, uploadPathSchema } from './path';
import { cancelUpload } from './service';

export const handler = route(
  {
    action: 'uploads.cancel',
    does: 'upload files',
    roles: UPLOAD_ROLES,
    mutating: true,
    path: uploadPathSchema,
  },
  async ({ principal, path }) =>
    json(200, await cancelUpload(stores, principal.team, path.upload_id, Date.now())),
);

import { completeUploadRequestSchema } from '../../lib/core/schemas';
import { json } from '../http/responses';
import { route } from '../http/route';
import { stores } from '../runtime/dependencies';
import { UPLOAD_ROLES, uploadPathSchema } from './path';
import { completeUpload } from './service';

export const handler = route(
  {
    action: 'uploads.complete',
    does: 'upload files',
    roles: UPLOAD_ROLES,
    mutating: true,
    path: uploadPathSchema,
    body: { encoding: 'json', schema: completeUploadRequestSchema },
  },
  async ({ principal, path, body }) =>
    json(200, await completeUpload(stores, principal.team, path.upload_id, body, Date.now())),
);

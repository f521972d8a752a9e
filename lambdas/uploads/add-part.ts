import { z } from 'zod';
import { json } from '../http/responses';
import { route } from '../http/route';
import { isUploadedFile } from '../http/schemas';
import type { UploadedFile } from '../http/types';
import { stores } from '../runtime/dependencies';
import { UPLOAD_ROLES, uploadPathSchema } from './path';
import { addPart } from './service';

const dataSchema = z.custom<UploadedFile>(isUploadedFile, {
  message: 'must be a file part holding the bytes, not a plain field',
});

export const handler = route(
  {
    action: 'uploads.add_part',
    does: 'upload files',
    roles: UPLOAD_ROLES,
    mutating: true,
    path: uploadPathSchema,
    body: { encoding: 'multipart', schema: z.strictObject({ data: dataSchema }) },
  },
  async ({ principal, path, body }) =>
    json(200, await addPart(stores, principal.team, path.upload_id, body.data.content, Date.now())),
);

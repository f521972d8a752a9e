import { z } from 'zod';
import { MAX_FILE_BYTES, UPLOAD_PURPOSES } from '../../lib/core/schemas';
import { json } from '../http/responses';
import { route } from '../http/route';
import { uploadedFileSchema } from '../http/schemas';
import { stores } from '../runtime/dependencies';
import { createFile } from './service';

const bodySchema = z.strictObject({ purpose: z.enum(UPLOAD_PURPOSES), file: uploadedFileSchema });

export const handler = route(
  {
    action: 'files.create',
    does: 'upload files',
    roles: ['member', 'admin', 'owner'],
    mutating: true,
    body: { encoding: 'multipart', schema: bodySchema, maxFileBytes: MAX_FILE_BYTES },
  },
  async ({ principal, body }) => {
    const file = await createFile(
      stores,
      principal.team,
      { purpose: body.purpose, filename: body.file.filename, content: body.file.content },
      Date.now(),
    );
    return json(200, file);
  },
);

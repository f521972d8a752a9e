import { json } from '../http/responses';
import { route } from '../http/route';
import { stores } from '../runtime/dependencies';
import { FILE_ROLES, filePathSchema } from './path';
import { deleteFile } from './service';

export const handler = route(
  {
    action: 'files.delete',
    does: 'delete files',
    roles: FILE_ROLES,
    mutating: true,
    path: filePathSchema,
  },
  async ({ principal, path }) => {
    await deleteFile(stores, principal.team, path.file_id);
    return json(200, { id: path.file_id, object: 'file', deleted: true });
  },
);

import { json } from '../http/responses';
import { route } from '../http/route';
import { stores } from '../runtime/dependencies';
import { FILE_ROLES, filePathSchema } from './path';
import { getFile } from './service';

export const handler = route(
  {
    action: 'files.get',
    does: 'read files',
    roles: FILE_ROLES,
    mutating: false,
    path: filePathSchema,
  },
  async ({ principal, path }) => json(200, await getFile(stores, principal.team, path.file_id)),
);

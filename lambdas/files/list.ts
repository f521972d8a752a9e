import { listEnvelope, listFilesQuerySchema } from '../../lib/core/schemas';
import { json } from '../http/responses';
import { route } from '../http/route';
import { stores } from '../runtime/dependencies';
import { FILE_ROLES } from './path';
import { listFiles } from './service';

export const handler = route(
  {
    action: 'files.list',
    does: 'list files',
    roles: FILE_ROLES,
    mutating: false,
    query: listFilesQuerySchema,
  },
  async ({ principal, query }) => {
    const page = await listFiles(stores, principal.team, query);
    return json(200, listEnvelope(page.items, page.hasMore));
  },
);

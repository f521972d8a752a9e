import { json } from '../http/responses';
import { route } from '../http/route';
import { ROUTE_SPECS } from '../route-specs';
import { stores } from '../runtime/dependencies';
import { deleteFile } from './service';

export const handler = route(ROUTE_SPECS['files/delete'], async ({ principal, path }) => {
  await deleteFile(stores, principal.team, path.file_id);
  return json(200, { id: path.file_id, object: 'file', deleted: true });
});

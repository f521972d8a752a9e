import { json } from '../http/responses';
import { route } from '../http/route';
import { ROUTE_SPECS } from '../route-specs';
import { stores } from '../runtime/dependencies';
import { createFile } from './service';

export const handler = route(ROUTE_SPECS['files/create'], async ({ principal, body }) => {
  const file = await createFile(
    stores,
    principal.team,
    { purpose: body.purpose, filename: body.file.filename, content: body.file.content },
    Date.now(),
  );
  return json(200, file);
});

import { contentDisposition } from '../../lib/adapters';
import { binary, redirect } from '../http/responses';
import { route } from '../http/route';
import { ROUTE_SPECS } from '../route-specs';
import { stores } from '../runtime/dependencies';
import { fileContent } from './service';

export const handler = route(ROUTE_SPECS['files/content'], async ({ principal, path }) => {
  const content = await fileContent(stores, principal.team, path.file_id);
  if (content.kind === 'redirect') return redirect(content.url);
  return binary(content.bytes, 'application/octet-stream', {
    'Content-Disposition': contentDisposition(content.filename),
  });
});

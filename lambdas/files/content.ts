import { contentDisposition } from '../../lib/adapters';
import { binary, redirect } from '../http/responses';
import { route } from '../http/route';
import { stores } from '../runtime/dependencies';
import { FILE_ROLES, filePathSchema } from './path';
import { fileContent } from './service';

export const handler = route(
  {
    action: 'files.content',
    does: 'read files',
    roles: FILE_ROLES,
    mutating: false,
    path: filePathSchema,
  },
  async ({ principal, path }) => {
    const content = await fileContent(stores, principal.team, path.file_id);
    if (content.kind === 'redirect') return redirect(content.url);
    return binary(content.bytes, 'application/octet-stream', {
      'Content-Disposition': contentDisposition(content.filename),
    });
  },
);

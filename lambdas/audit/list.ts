import { listAuditQuerySchema, listEnvelope } from '../../lib/core/schemas';
import { json } from '../http/responses';
import { route } from '../http/route';
import { stores } from '../runtime/dependencies';

export const handler = route(
  {
    action: 'audit.list',
    does: 'read the audit trail',
    roles: ['owner'],
    mutating: false,
    query: listAuditQuerySchema,
  },
  async ({ query }) => {
    const page = await stores.audit.list(query);
    return json(200, listEnvelope(page.items, page.hasMore));
  },
);

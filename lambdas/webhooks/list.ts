import { listEnvelope, pageQuerySchema } from '../../lib/core/schemas';
import { json } from '../http/responses';
import { route } from '../http/route';
import { stores } from '../runtime/dependencies';
import { WEBHOOK_READER_ROLES } from './path';
import { listWebhookEndpoints } from './service';

export const handler = route(
  {
    action: 'webhooks.list',
    does: 'list webhook endpoints',
    roles: WEBHOOK_READER_ROLES,
    mutating: false,
    query: pageQuerySchema,
  },
  async ({ principal, query }) => {
    const page = await listWebhookEndpoints(stores, principal.team, query);
    return json(200, listEnvelope(page.items, page.hasMore));
  },
);

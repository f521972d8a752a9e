import { listEnvelope, listWebhookDeliveriesQuerySchema } from '../../lib/core/schemas';
import { json } from '../http/responses';
import { route } from '../http/route';
import { stores } from '../runtime/dependencies';
import { WEBHOOK_READER_ROLES } from './path';
import { listWebhookDeliveries } from './service';

export const handler = route(
  {
    action: 'webhooks.deliveries.list',
    does: 'read the webhook delivery log',
    roles: WEBHOOK_READER_ROLES,
    mutating: false,
    query: listWebhookDeliveriesQuerySchema,
  },
  async ({ principal, query }) => {
    const page = await listWebhookDeliveries(stores, principal.team, query);
    return json(200, listEnvelope(page.items, page.hasMore));
  },
);

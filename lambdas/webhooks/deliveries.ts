import { listEnvelope } from '../../lib/core/schemas';
import { json } from '../http/responses';
import { route } from '../http/route';
import { ROUTE_SPECS } from '../route-specs';
import { stores } from '../runtime/dependencies';
import { listWebhookDeliveries } from './service';

export const handler = route(ROUTE_SPECS['webhooks/deliveries'], async ({ principal, query }) => {
  const page = await listWebhookDeliveries(stores, principal.team, query);
  return json(200, listEnvelope(page.items, page.hasMore));
});

import { listEnvelope } from '../../lib/core/schemas';
import { json } from '../http/responses';
import { route } from '../http/route';
import { ROUTE_SPECS } from '../route-specs';
import { stores } from '../runtime/dependencies';
import { listWebhookEndpoints } from './service';

export const handler = route(ROUTE_SPECS['webhooks/list'], async ({ principal, query }) => {
  const page = await listWebhookEndpoints(stores, principal.team, query);
  return json(200, listEnvelope(page.items, page.hasMore));
});

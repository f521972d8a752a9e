import { json } from '../http/responses';
import { route } from '../http/route';
import { ROUTE_SPECS } from '../route-specs';
import { stores } from '../runtime/dependencies';
import { deleteWebhookEndpoint } from './service';

export const handler = route(ROUTE_SPECS['webhooks/delete'], async ({ principal, path }) => {
  await deleteWebhookEndpoint(stores, principal.team, path.webhook_id);
  return json(200, { id: path.webhook_id, object: 'webhook_endpoint', deleted: true });
});

import { json } from '../http/responses';
import { route } from '../http/route';
import { stores } from '../runtime/dependencies';
import { WEBHOOK_MANAGER_ROLES, webhookPathSchema } from './path';
import { deleteWebhookEndpoint } from './service';

export const handler = route(
  {
    action: 'webhooks.delete',
    does: 'delete webhook endpoints',
    roles: WEBHOOK_MANAGER_ROLES,
    mutating: true,
    path: webhookPathSchema,
  },
  async ({ principal, path }) => {
    await deleteWebhookEndpoint(stores, principal.team, path.webhook_id);
    return json(200, { id: path.webhook_id, object: 'webhook_endpoint', deleted: true });
  },
);

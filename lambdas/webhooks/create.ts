import { createWebhookEndpointRequestSchema } from '../../lib/core/schemas';
import { json } from '../http/responses';
import { route } from '../http/route';
import { config, stores } from '../runtime/dependencies';
import { WEBHOOK_MANAGER_ROLES } from './path';
import { createWebhookEndpoint } from './service';

export const handler = route(
  {
    action: 'webhooks.create',
    does: 'register webhook endpoints',
    roles: WEBHOOK_MANAGER_ROLES,
    mutating: true,
    // The signing secret is shown once, so a repeat cannot be replayed.
    replay: 'refuse',
    body: { encoding: 'json', schema: createWebhookEndpointRequestSchema },
  },
  async ({ principal, body }) =>
    json(
      200,
      await createWebhookEndpoint(stores, principal.team, body, Date.now(), {
        allowPrivateDestinations: config.webhooks.allowPrivateDestinations,
      }),
    ),
);

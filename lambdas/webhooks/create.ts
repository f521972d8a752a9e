import { json } from '../http/responses';
import { route } from '../http/route';
import { ROUTE_SPECS } from '../route-specs';
import { config, stores } from '../runtime/dependencies';
import { createWebhookEndpoint } from './service';

export const handler = route(ROUTE_SPECS['webhooks/create'], async ({ principal, body }) =>
  json(
    200,
    await createWebhookEndpoint(stores, principal.team, body, Date.now(), {
      allowPrivateDestinations: config.webhooks.allowPrivateDestinations,
    }),
  ),
);

import { createApiKeyRequestSchema } from '../../lib/core/schemas';
import { json } from '../http/responses';
import { route } from '../http/route';
import { stores } from '../runtime/dependencies';
import { createApiKey } from './service';

export const handler = route(
  {
    action: 'keys.create',
    does: 'create API keys',
    roles: ['admin', 'owner'],
    mutating: true,
    // The secret is shown once and never stored, so a repeat cannot be replayed.
    replay: 'refuse',
    body: { encoding: 'json', schema: createApiKeyRequestSchema },
  },
  async ({ principal, body }) => json(200, await createApiKey(stores, principal, body, Date.now())),
);

import { registerModelRequestSchema } from '../../lib/core/schemas';
import { json } from '../http/responses';
import { route } from '../http/route';
import { stores } from '../runtime/dependencies';
import { registerBaseModel } from './service';

export const handler = route(
  {
    action: 'models.register',
    does: 'register base models',
    // Base models are the deployment's, visible to every team.
    roles: ['owner'],
    mutating: true,
    body: { encoding: 'json', schema: registerModelRequestSchema },
  },
  async ({ body }) => json(200, await registerBaseModel(stores, body, Date.now())),
);

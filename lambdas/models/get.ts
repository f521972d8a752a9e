import { json } from '../http/responses';
import { route } from '../http/route';
import { stores } from '../runtime/dependencies';
import { MODEL_READ_ROLES, modelPathSchema } from './path';
import { getModel } from './service';

export const handler = route(
  {
    action: 'models.get',
    does: 'read models',
    roles: MODEL_READ_ROLES,
    mutating: false,
    path: modelPathSchema,
  },
  async ({ principal, path }) => json(200, await getModel(stores, principal.team, path.model)),
);

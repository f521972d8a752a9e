import { json } from '../http/responses';
import { route } from '../http/route';
import { stores } from '../runtime/dependencies';
import { MODEL_READ_ROLES } from './path';
import { listModels } from './service';

export const handler = route(
  {
    action: 'models.list',
    does: 'list models',
    roles: MODEL_READ_ROLES,
    mutating: false,
  },
  async ({ principal }) => json(200, await listModels(stores, principal.team)),
);

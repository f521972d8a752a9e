import { json } from '../http/responses';
import { route } from '../http/route';
import { stores } from '../runtime/dependencies';
import { modelPathSchema } from './path';
import { deleteFineTunedModel } from './service';

export const handler = route(
  {
    action: 'models.delete',
    does: 'delete models',
    // Deleting destroys the trained artifacts, which no one can make again without retraining.
    roles: ['admin', 'owner'],
    mutating: true,
    path: modelPathSchema,
  },
  async ({ principal, path }) => json(200, await deleteFineTunedModel(stores, principal.team, path.model)),
);

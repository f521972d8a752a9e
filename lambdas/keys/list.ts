import { listEnvelope, pageQuerySchema, teamIdSchema } from '../../lib/core/schemas';
import { json } from '../http/responses';
import { route } from '../http/route';
import { stores } from '../runtime/dependencies';
import { listApiKeys } from './service';

const querySchema = pageQuerySchema.extend({ team: teamIdSchema.optional() });

export const handler = route(
  {
    action: 'keys.list',
    does: 'list API keys',
    roles: ['admin', 'owner'],
    mutating: false,
    query: querySchema,
  },
  async ({ principal, query }) => {
    const page = await listApiKeys(stores, principal, query);
    return json(200, listEnvelope(page.items, page.hasMore));
  },
);

import { listEnvelope, pageQuerySchema, teamIdSchema } from '../../lib/core/schemas';
import { json } from '../http/responses';
import { route } from '../http/route';
import { stores } from '../runtime/dependencies';
import { listTeams } from './service';

const querySchema = pageQuerySchema.extend({ after: teamIdSchema.optional() });

export const handler = route(
  {
    action: 'teams.list',
    does: 'list teams',
    roles: ['member', 'admin', 'finance', 'owner'],
    mutating: false,
    query: querySchema,
  },
  async ({ principal, query }) => {
    const page = await listTeams(stores.teams, principal, query);
    return json(200, listEnvelope(page.items, page.hasMore));
  },
);

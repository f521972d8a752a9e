import { createTeamRequestSchema } from '../../lib/core/schemas';
import { json } from '../http/responses';
import { route } from '../http/route';
import { stores } from '../runtime/dependencies';
import { createTeam } from './service';

export const handler = route(
  {
    action: 'teams.create',
    does: 'create teams',
    roles: ['owner'],
    mutating: true,
    body: { encoding: 'json', schema: createTeamRequestSchema },
  },
  async ({ body }) => json(200, await createTeam(stores.teams, body, Date.now())),
);

import { z } from 'zod';
import { teamIdSchema } from '../../lib/core/schemas';
import { json } from '../http/responses';
import { route } from '../http/route';
import { stores } from '../runtime/dependencies';
import { revokeApiKey } from './service';

export const handler = route(
  {
    action: 'keys.revoke',
    does: 'revoke API keys',
    roles: ['admin', 'owner'],
    mutating: true,
    path: z.object({ key_id: z.string() }),
    query: z.strictObject({ team: teamIdSchema.optional() }),
  },
  async ({ principal, path, query }) => {
    const revoked = await revokeApiKey(stores, principal, path.key_id, query.team, Date.now());
    return json(200, { ...revoked, deleted: true });
  },
);

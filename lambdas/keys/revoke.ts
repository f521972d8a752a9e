import { json } from '../http/responses';
import { route } from '../http/route';
import { ROUTE_SPECS } from '../route-specs';
import { stores } from '../runtime/dependencies';
import { revokeApiKey } from './service';

export const handler = route(ROUTE_SPECS['keys/revoke'], async ({ principal, path, query }) => {
  const revoked = await revokeApiKey(stores, principal, path.key_id, query.team, Date.now());
  return json(200, { ...revoked, deleted: true });
});

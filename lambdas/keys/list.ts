import { listEnvelope } from '../../lib/core/schemas';
import { json } from '../http/responses';
import { route } from '../http/route';
import { ROUTE_SPECS } from '../route-specs';
import { stores } from '../runtime/dependencies';
import { listApiKeys } from './service';

export const handler = route(ROUTE_SPECS['keys/list'], async ({ principal, query }) => {
  const page = await listApiKeys(stores, principal, query);
  return json(200, listEnvelope(page.items, page.hasMore));
});

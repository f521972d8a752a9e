import { listEnvelope } from '../../lib/core/schemas';
import { json } from '../http/responses';
import { route } from '../http/route';
import { ROUTE_SPECS } from '../route-specs';
import { stores } from '../runtime/dependencies';

export const handler = route(ROUTE_SPECS['audit/list'], async ({ query }) => {
  const page = await stores.audit.list(query);
  return json(200, listEnvelope(page.items, page.hasMore));
});

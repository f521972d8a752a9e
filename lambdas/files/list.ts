import { listEnvelope } from '../../lib/core/schemas';
import { json } from '../http/responses';
import { route } from '../http/route';
import { ROUTE_SPECS } from '../route-specs';
import { stores } from '../runtime/dependencies';
import { listFiles } from './service';

export const handler = route(ROUTE_SPECS['files/list'], async ({ principal, query }) => {
  const page = await listFiles(stores, principal.team, query);
  return json(200, listEnvelope(page.items, page.hasMore));
});

import { listEnvelope } from '../../lib/core/schemas';
import { json } from '../http/responses';
import { route } from '../http/route';
import { ROUTE_SPECS } from '../route-specs';
import { jobDeps } from '../runtime/dependencies';
import { listJobs } from './service';

export const handler = route(ROUTE_SPECS['jobs/list'], async ({ principal, query }) => {
  const page = await listJobs(jobDeps, principal.team, query);
  return json(200, listEnvelope(page.items, page.hasMore));
});

import { listEnvelope } from '../../lib/core/schemas';
import { json } from '../http/responses';
import { route } from '../http/route';
import { ROUTE_SPECS } from '../route-specs';
import { jobDeps } from '../runtime/dependencies';
import { listJobCheckpoints } from './service';

export const handler = route(ROUTE_SPECS['jobs/checkpoints'], async ({ principal, path, query }) => {
  const page = await listJobCheckpoints(jobDeps, principal.team, path.fine_tuning_job_id, query);
  return json(200, listEnvelope(page.items, page.hasMore));
});

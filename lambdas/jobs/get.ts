import { json } from '../http/responses';
import { route } from '../http/route';
import { ROUTE_SPECS } from '../route-specs';
import { jobDeps } from '../runtime/dependencies';
import { getJob } from './service';

export const handler = route(ROUTE_SPECS['jobs/get'], async ({ principal, path }) =>
  json(200, (await getJob(jobDeps, principal.team, path.fine_tuning_job_id)).job),
);

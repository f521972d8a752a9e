import { json } from '../http/responses';
import { route } from '../http/route';
import { ROUTE_SPECS } from '../route-specs';
import { jobDeps } from '../runtime/dependencies';
import { controlJob } from './service';

export const handler = route(ROUTE_SPECS['jobs/cancel'], async ({ principal, path }) =>
  json(200, await controlJob(jobDeps, principal.team, path.fine_tuning_job_id, 'cancel')),
);

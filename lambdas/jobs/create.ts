import { json } from '../http/responses';
import { route } from '../http/route';
import { ROUTE_SPECS } from '../route-specs';
import { jobDeps } from '../runtime/dependencies';
import { createJob } from './service';

export const handler = route(ROUTE_SPECS['jobs/create'], async ({ principal, body }) =>
  json(200, await createJob(jobDeps, principal.team, body)),
);

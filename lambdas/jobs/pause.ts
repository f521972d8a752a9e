import { json } from '../http/responses';
import { route } from '../http/route';
import { jobDeps } from '../runtime/dependencies';
import { JOB_ROLES, jobPathSchema } from './path';
import { controlJob } from './service';

export const handler = route(
  {
    action: 'jobs.pause',
    does: 'pause fine-tuning jobs',
    roles: JOB_ROLES,
    mutating: true,
    path: jobPathSchema,
  },
  async ({ principal, path }) =>
    json(200, await controlJob(jobDeps, principal.team, path.fine_tuning_job_id, 'pause')),
);

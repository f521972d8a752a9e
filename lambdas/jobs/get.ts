import { json } from '../http/responses';
import { route } from '../http/route';
import { jobDeps } from '../runtime/dependencies';
import { JOB_ROLES, jobPathSchema } from './path';
import { getJob } from './service';

export const handler = route(
  {
    action: 'jobs.get',
    does: 'read fine-tuning jobs',
    roles: JOB_ROLES,
    mutating: false,
    path: jobPathSchema,
  },
  async ({ principal, path }) =>
    json(200, (await getJob(jobDeps, principal.team, path.fine_tuning_job_id)).job),
);

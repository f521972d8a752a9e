import { createJobRequestSchema } from '../../lib/core/schemas';
import { json } from '../http/responses';
import { route } from '../http/route';
import { jobDeps } from '../runtime/dependencies';
import { JOB_ROLES } from './path';
import { createJob } from './service';

export const handler = route(
  {
    action: 'jobs.create',
    does: 'create fine-tuning jobs',
    roles: JOB_ROLES,
    mutating: true,
    body: { encoding: 'json', schema: createJobRequestSchema },
  },
  async ({ principal, body }) => json(200, await createJob(jobDeps, principal.team, body)),
);

import { listEnvelope } from '../../lib/core/schemas';
import { json } from '../http/responses';
import { route } from '../http/route';
import { jobDeps } from '../runtime/dependencies';
import { JOB_ROLES, listJobsQuerySchema } from './path';
import { listJobs } from './service';

export const handler = route(
  {
    action: 'jobs.list',
    does: 'list fine-tuning jobs',
    roles: JOB_ROLES,
    mutating: false,
    query: listJobsQuerySchema,
  },
  async ({ principal, query }) => {
    const page = await listJobs(jobDeps, principal.team, query);
    return json(200, listEnvelope(page.items, page.hasMore));
  },
);

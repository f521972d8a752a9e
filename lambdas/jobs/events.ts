import { listEnvelope, pageQuerySchema } from '../../lib/core/schemas';
import { json } from '../http/responses';
import { route } from '../http/route';
import { jobDeps } from '../runtime/dependencies';
import { JOB_ROLES, jobPathSchema } from './path';
import { listJobEvents } from './service';

export const handler = route(
  {
    action: 'jobs.events',
    does: 'read fine-tuning job events',
    roles: JOB_ROLES,
    mutating: false,
    path: jobPathSchema,
    query: pageQuerySchema,
  },
  async ({ principal, path, query }) => {
    const page = await listJobEvents(jobDeps, principal.team, path.fine_tuning_job_id, query);
    return json(200, listEnvelope(page.items, page.hasMore));
  },
);

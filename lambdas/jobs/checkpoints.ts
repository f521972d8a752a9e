import { listEnvelope, pageQuerySchema } from '../../lib/core/schemas';
import { json } from '../http/responses';
import { route } from '../http/route';
import { jobDeps } from '../runtime/dependencies';
import { JOB_ROLES, jobPathSchema } from './path';
import { listJobCheckpoints } from './service';

export const handler = route(
  {
    action: 'jobs.checkpoints',
    does: 'read fine-tuning job checkpoints',
    roles: JOB_ROLES,
    mutating: false,
    path: jobPathSchema,
    query: pageQuerySchema,
  },
  async ({ principal, path, query }) => {
    const page = await listJobCheckpoints(jobDeps, principal.team, path.fine_tuning_job_id, query);
    return json(200, listEnvelope(page.items, page.hasMore));
  },
);

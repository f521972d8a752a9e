import { z } from 'zod';
import { pageQuerySchema } from '../../lib/core/schemas';
import { json } from '../http/responses';
import { route } from '../http/route';
import { headerValue } from '../middlewares/request-parser';
import { config, jobDeps } from '../runtime/dependencies';
import { artifactLinksFor, listJobArtifacts } from './artifact-service';
import { JOB_ROLES, jobPathSchema } from './path';

/** `after` is an artifact path, longer than an id may be; `limit` as every list route's. */
const artifactQuerySchema = pageQuerySchema.extend({ after: z.string().min(1).max(1024).optional() });

/**
 * `GET /v1/whetstone/jobs/{fine_tuning_job_id}/artifacts`: everything the job left in its folder
 * (spec, checkpoints, adapter or model, metrics, result file, evaluation, manifest), each with a
 * download URL, in path order as an OpenAI list whose cursor (`after`, `first_id`, `last_id`) is a path.
 */
export const handler = route(
  {
    action: 'jobs.artifacts',
    does: 'list fine-tuning job artifacts',
    roles: JOB_ROLES,
    mutating: false,
    path: jobPathSchema,
    query: artifactQuerySchema,
  },
  async ({ principal, path, query, event }) =>
    json(
      200,
      await listJobArtifacts(
        jobDeps,
        principal.team,
        path.fine_tuning_job_id,
        query,
        artifactLinksFor(config.environment, headerValue(event, 'host')),
      ),
    ),
);

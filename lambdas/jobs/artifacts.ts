import { json } from '../http/responses';
import { route } from '../http/route';
import { headerValue } from '../middlewares/request-parser';
import { ROUTE_SPECS } from '../route-specs';
import { config, jobDeps } from '../runtime/dependencies';
import { artifactLinksFor, listJobArtifacts } from './artifact-service';

/**
 * `GET /v1/whetstone/jobs/{fine_tuning_job_id}/artifacts`: everything the job left in its folder
 * (spec, checkpoints, adapter or model, metrics, result file, evaluation, manifest), each with a
 * download URL, in path order as an OpenAI list whose cursor (`after`, `first_id`, `last_id`) is a path.
 */
export const handler = route(ROUTE_SPECS['jobs/artifacts'], async ({ principal, path, query, event }) =>
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

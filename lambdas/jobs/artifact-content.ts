import { contentDisposition } from '../../lib/adapters';
import { binary, redirect } from '../http/responses';
import { route } from '../http/route';
import { headerValue } from '../middlewares/request-parser';
import { ROUTE_SPECS } from '../route-specs';
import { config, jobDeps } from '../runtime/dependencies';
import { artifactLinksFor, jobArtifactContent } from './artifact-service';

/**
 * `GET /v1/whetstone/jobs/{fine_tuning_job_id}/artifacts/{path+}`: one artifact. Locally the bytes
 * themselves; in AWS a 302 to a presigned S3 GET, since artifacts outgrow Lambda's 6 MB response.
 */
export const handler = route(ROUTE_SPECS['jobs/artifact-content'], async ({ principal, path, event }) => {
  const content = await jobArtifactContent(
    jobDeps,
    principal.team,
    path.fine_tuning_job_id,
    path.path,
    artifactLinksFor(config.environment, headerValue(event, 'host')),
  );
  if (content.kind === 'redirect') return redirect(content.url);
  return binary(content.bytes, 'application/octet-stream', {
    'Content-Disposition': contentDisposition(content.filename),
  });
});

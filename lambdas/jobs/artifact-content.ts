import { z } from 'zod';
import { contentDisposition } from '../../lib/adapters';
import { binary, redirect } from '../http/responses';
import { route } from '../http/route';
import { headerValue } from '../middlewares/request-parser';
import { config, jobDeps } from '../runtime/dependencies';
import { artifactLinksFor, jobArtifactContent } from './artifact-service';
import { JOB_ROLES } from './path';

/** `path` is API Gateway's greedy `{path+}`: the rest of the URL, percent-decoded, slashes kept. */
const artifactPathSchema = z.object({ fine_tuning_job_id: z.string(), path: z.string() });

/**
 * `GET /v1/whetstone/jobs/{fine_tuning_job_id}/artifacts/{path+}`: one artifact. Locally the bytes
 * themselves; in AWS a 302 to a presigned S3 GET, since artifacts outgrow Lambda's 6 MB response.
 */
export const handler = route(
  {
    action: 'jobs.artifact_content',
    does: 'download fine-tuning job artifacts',
    roles: JOB_ROLES,
    mutating: false,
    path: artifactPathSchema,
  },
  async ({ principal, path, event }) => {
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
  },
);

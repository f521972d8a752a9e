import { z } from 'zod';
import { pageQuerySchema } from '../../lib/core/schemas';

export const jobPathSchema = z.object({ fine_tuning_job_id: z.string() });
/** `path` is API Gateway's greedy `{path+}`: the rest of the URL, percent-decoded, slashes kept. */
export const artifactPathSchema = z.object({ fine_tuning_job_id: z.string(), path: z.string() });
/** `after` is an artifact path, longer than an id may be; `limit` as every list route's. */
export const artifactQuerySchema = pageQuerySchema.extend({ after: z.string().min(1).max(1024).optional() });
/** Who works with a team's jobs: everyone but finance, which reads costs only. */
export const JOB_ROLES = ['member', 'admin', 'owner'] as const;

const METADATA_PARAMETER = /^metadata\[(.{1,64})\]$/;

/**
 * `after`, `limit` and OpenAI's `metadata[key]=value` filters (as the SDK writes a `metadata`
 * object into the query string). Any other parameter is refused by name.
 */
export const listJobsQuerySchema = z
  .record(z.string(), z.string())
  .superRefine((query, context) => {
    for (const key of Object.keys(query)) {
      if (key !== 'after' && key !== 'limit' && !METADATA_PARAMETER.test(key)) {
        context.addIssue({ code: 'custom', path: [key], message: 'is not a query parameter of this route' });
      }
    }
    if (Object.keys(query).filter((key) => METADATA_PARAMETER.test(key)).length > 16) {
      // Sent as `metadata[key]` parameters, so there is no `metadata` key to find in the query.
      context.addIssue({
        code: 'custom',
        path: ['metadata'],
        message: 'filters on at most 16 keys',
        params: { sent: true },
      });
    }
  })
  .transform((query, context) => {
    const page = pageQuerySchema.safeParse({ after: query.after, limit: query.limit });
    if (!page.success) {
      for (const issue of page.error.issues) context.addIssue({ ...issue, code: 'custom' });
      return z.NEVER;
    }
    const metadata = Object.fromEntries(
      Object.entries(query).flatMap(([key, value]) => {
        const match = METADATA_PARAMETER.exec(key);
        return match ? [[match[1] as string, value]] : [];
      }),
    );
    return { ...page.data, ...(Object.keys(metadata).length > 0 ? { metadata } : {}) };
  });

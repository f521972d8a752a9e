import middy from '@middy/core';
import { batchJobStateChangeSchema, JOB_METRICS } from '../../lib/core/jobs';
import { applyComputeEvent } from '../jobs/compute-events';
import type { JobDeps } from '../jobs/deps';
import { jobDeps, writeMetrics } from '../runtime/dependencies';
import { emfLine } from '../runtime/emf';
import { computeEventMetrics } from './metrics';

/**
 * EventBridge's "Batch Job State Change" for Whetstone's queues (the local launcher sends the
 * same events). An event this handler cannot read is logged and dropped: retrying it could
 * never succeed. A failure to apply one is thrown. EventBridge invokes the function
 * asynchronously, so Lambda retries the event itself and then sends it to the function's
 * on-failure destination (a queue kept for inspection and replay); EventBridge's own retries and
 * dead-letter queue cover only failures to deliver it. Applying is idempotent, so a retry is
 * harmless. Each status move writes one EMF line (`JOB_METRICS`) through `write`.
 */
export function batchStateChangeHandler(deps: JobDeps, write: (line: string) => void) {
  return middy<unknown, void>().handler(async (event) => {
    const parsed = batchJobStateChangeSchema.safeParse(event);
    if (!parsed.success) {
      deps.log('unreadable compute event dropped', {
        id: (event as { id?: unknown }).id ?? null,
        problem: parsed.error.issues[0]?.message ?? 'invalid',
        path: parsed.error.issues[0]?.path.join('.') ?? '',
      });
      return;
    }
    await applyComputeEvent(deps, parsed.data, (change) =>
      write(emfLine(JOB_METRICS.namespace, computeEventMetrics(parsed.data, change), deps.now())),
    );
  });
}

export const handler = batchStateChangeHandler(jobDeps, writeMetrics);

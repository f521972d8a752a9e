import middy from '@middy/core';
import { batchJobStateChangeSchema } from '../../lib/core/jobs';
import { applyComputeEvent } from '../jobs/compute-events';
import { jobDeps } from '../runtime/dependencies';

/**
 * EventBridge's "Batch Job State Change" for Whetstone's queues (the local launcher sends the
 * same events). An event this handler cannot read is logged and dropped: retrying it could
 * never succeed. A failure to apply one is thrown, so EventBridge retries it and, in the end,
 * parks it in the dead-letter queue; applying is idempotent, so a retry is harmless.
 */
export const handler = middy<unknown, void>().handler(async (event) => {
  const parsed = batchJobStateChangeSchema.safeParse(event);
  if (!parsed.success) {
    jobDeps.log('unreadable compute event dropped', {
      id: (event as { id?: unknown }).id ?? null,
      problem: parsed.error.issues[0]?.message ?? 'invalid',
      path: parsed.error.issues[0]?.path.join('.') ?? '',
    });
    return;
  }
  await applyComputeEvent(jobDeps, parsed.data);
});

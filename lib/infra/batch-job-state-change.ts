import type * as events from 'aws-cdk-lib/aws-events';
import { BATCH_JOB_STATE_CHANGE } from '../core/jobs';

/**
 * Batch job state changes of the given queues: what the control region's rule hands the events
 * handler and what each other compute region forwards to it, so the two cannot match differently.
 */
export function batchJobStateChangePattern(jobQueueArns: readonly string[]): events.EventPattern {
  return {
    source: [BATCH_JOB_STATE_CHANGE.source],
    detailType: [BATCH_JOB_STATE_CHANGE.detailType],
    detail: { jobQueue: [...jobQueueArns] },
  };
}

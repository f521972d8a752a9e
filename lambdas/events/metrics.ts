import { type BatchJobStateChange, JOB_METRICS } from '../../lib/core/jobs';
import type { ComputeStatusChange } from '../jobs/compute-events';
import type { EmfMetric } from '../runtime/emf';

/**
 * What a job queue's `jobStateTimeLimitActions` leaves as the reason when it cancels a job that
 * sat RUNNABLE too long: "Canceled by JobStateTimeLimit action due to reason: CAPACITY:…" (or
 * MISCONFIGURATION:…); the bare reason, as the job showed while it waited, counts as well.
 */
const STUCK_CANCEL_REASON =
  /^(?:(?:Canceled|Cancelled|Terminated) by JobStateTimeLimit action due to reason: )?(?:CAPACITY|MISCONFIGURATION):/;

/** Batch gave up on a compute job no queue could place. */
export function isStuckJobCancel(event: BatchJobStateChange): boolean {
  return event.detail.status === 'FAILED' && STUCK_CANCEL_REASON.test(event.detail.statusReason ?? '');
}

/**
 * The metrics (`JOB_METRICS`) for a compute event that moved a job: one status change, with the
 * new status as its dimension, and one stuck job when Batch cancelled it for want of capacity.
 * Only a move counts, so duplicate and retried deliveries, which move nothing, count once.
 */
export function computeEventMetrics(event: BatchJobStateChange, change: ComputeStatusChange): EmfMetric[] {
  return [
    {
      name: JOB_METRICS.statusChanges,
      value: 1,
      unit: 'Count',
      dimensions: { [JOB_METRICS.statusDimension]: change.to },
    },
    ...(isStuckJobCancel(event)
      ? [{ name: JOB_METRICS.stuckJobsCancelled, value: 1, unit: 'Count' as const, dimensions: {} }]
      : []),
  ];
}

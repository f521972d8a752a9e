/**
 * CloudWatch metrics the events handler publishes in the Embedded Metric Format (a JSON log line
 * with an `_aws` block; no API call, no IAM). The dashboard and the stuck-jobs alarm read them.
 */
export const JOB_METRICS = {
  namespace: 'Whetstone',
  /** Count per job status a compute event moved a job to; dimension `Status`. */
  statusChanges: 'JobStatusChanges',
  /** Count of compute jobs Batch cancelled because they sat RUNNABLE past the queue's time limit. */
  stuckJobsCancelled: 'StuckJobsCancelled',
  statusDimension: 'Status',
} as const;

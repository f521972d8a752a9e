import { randomUUID } from 'node:crypto';
import type { BatchJobStateChange, ComputeStatus } from '../../lib/core/jobs';
import { COMPUTE_TAGS } from '../../lib/core/jobs';

export interface EndedAttempt {
  readonly exitCode: number;
  readonly reason: string;
  readonly startedAt: number;
  readonly stoppedAt: number;
}

/** A "Batch Job State Change" event as EventBridge delivers it, for one launch of a job. */
export function batchEvent(options: {
  readonly team: string;
  readonly jobId: string;
  readonly launch: number;
  readonly status: ComputeStatus;
  readonly ended?: readonly EndedAttempt[];
  readonly statusReason?: string;
  readonly computeJobId?: string;
  readonly time?: number;
}): BatchJobStateChange {
  const computeJobId = options.computeJobId ?? `batch-${options.jobId}-${options.launch}`;
  const jobArn = `arn:aws:batch:us-east-1:123456789012:job/${computeJobId}`;
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': 'Batch Job State Change',
    source: 'aws.batch',
    account: '123456789012',
    time: new Date(options.time ?? Date.now()).toISOString(),
    region: 'us-east-1',
    resources: [jobArn],
    detail: {
      jobArn,
      jobName: `whetstone-${options.team}-${options.jobId}-l${options.launch}`,
      jobId: computeJobId,
      jobQueue: 'arn:aws:batch:us-east-1:123456789012:job-queue/whetstone-none-spot',
      status: options.status,
      ...(options.statusReason ? { statusReason: options.statusReason } : {}),
      attempts: (options.ended ?? []).map((attempt) => ({
        container: {
          exitCode: attempt.exitCode,
          reason: attempt.reason,
          logStreamName: 'whetstone/default/x',
        },
        startedAt: attempt.startedAt,
        stoppedAt: attempt.stoppedAt,
        statusReason: attempt.reason,
      })),
      createdAt: 1_700_000_000_000,
      tags: {
        [COMPUTE_TAGS.team]: options.team,
        [COMPUTE_TAGS.jobId]: options.jobId,
        [COMPUTE_TAGS.launch]: String(options.launch),
      },
      parameters: {},
    },
  };
}

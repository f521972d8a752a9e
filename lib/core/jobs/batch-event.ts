import { z } from 'zod';
import { COMPUTE_STATUSES } from './lifecycle';

/**
 * The EventBridge "Batch Job State Change" event: the fields Whetstone reads. The detail
 * resembles DescribeJobs' JobDetail, and AWS may add fields, so unknown ones pass.
 * The local launcher emits the same shape to the same handler.
 */
export const batchAttemptSchema = z.looseObject({
  container: z
    .looseObject({
      exitCode: z.number().int().optional(),
      reason: z.string().optional(),
      logStreamName: z.string().optional(),
    })
    .optional(),
  startedAt: z.number().optional(),
  stoppedAt: z.number().optional(),
  statusReason: z.string().optional(),
});
export type BatchAttempt = z.infer<typeof batchAttemptSchema>;

/** What identifies AWS Batch's job state change events on EventBridge. */
export const BATCH_JOB_STATE_CHANGE = { source: 'aws.batch', detailType: 'Batch Job State Change' } as const;

export const batchJobStateChangeSchema = z.looseObject({
  version: z.string().optional(),
  id: z.string(),
  'detail-type': z.literal(BATCH_JOB_STATE_CHANGE.detailType),
  source: z.literal(BATCH_JOB_STATE_CHANGE.source),
  time: z.string(),
  region: z.string().optional(),
  resources: z.array(z.string()).optional(),
  detail: z.looseObject({
    jobArn: z.string().optional(),
    jobName: z.string(),
    jobId: z.string(),
    jobQueue: z.string(),
    status: z.enum(COMPUTE_STATUSES),
    statusReason: z.string().optional(),
    attempts: z.array(batchAttemptSchema).default([]),
    createdAt: z.number().optional(),
    startedAt: z.number().optional(),
    stoppedAt: z.number().optional(),
    tags: z.record(z.string(), z.string()).optional(),
    container: z
      .looseObject({
        environment: z.array(z.object({ name: z.string(), value: z.string() })).optional(),
        exitCode: z.number().int().optional(),
        reason: z.string().optional(),
      })
      .optional(),
  }),
});
export type BatchJobStateChange = z.infer<typeof batchJobStateChangeSchema>;

/** Tags on every compute job (propagated for cost allocation); the events handler finds the job by them. */
export const COMPUTE_TAGS = {
  team: 'whetstone:team',
  jobId: 'whetstone:job-id',
  launch: 'whetstone:launch',
} as const;

/** The trainer's environment (DESIGN.md, Trainer contract), plus the launch it belongs to. */
export const TRAINER_ENV = {
  jobId: 'WHETSTONE_JOB_ID',
  team: 'WHETSTONE_TEAM',
  launch: 'WHETSTONE_LAUNCH',
  specUri: 'WHETSTONE_SPEC_URI',
  table: 'WHETSTONE_TABLE',
  bucket: 'WHETSTONE_BUCKET',
  environment: 'WHETSTONE_ENV',
} as const;

/**
 * Batch's retry rule, which the local launcher applies too: an attempt ended by the host going
 * away (spot reclaim) or by SIGTERM (exit 143, after a checkpoint) is tried again, up to
 * `MAX_ATTEMPTS`; any other end is final. A TerminateJob (cancel, pause) is never retried.
 */
export const MAX_ATTEMPTS = 3;
export const RETRYABLE_EXIT_CODE = 143;
export const RETRYABLE_STATUS_REASON_GLOB = 'Host EC2*';

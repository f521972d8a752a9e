import { describe, expect, it } from 'vitest';
import { failureOf, identify, mergeAttempts } from '../../../lambdas/jobs/compute-events';
import { SHUTDOWN_REASON } from '../../../lib/adapters';
import type { BatchJobStateChange } from '../../../lib/core/jobs';
import { batchEvent } from '../../helpers/compute-events';

const base = { team: 'acme', jobId: 'ftjob-01J00000000000000000000000', launch: 2 } as const;

function failed(
  reason: string,
  container: { exitCode: number; reason?: string },
  attempts = 1,
): BatchJobStateChange {
  const event = batchEvent({ ...base, status: 'FAILED' });
  return {
    ...event,
    detail: {
      ...event.detail,
      attempts: Array.from({ length: attempts }, () => ({
        container,
        statusReason: reason,
        startedAt: 1,
        stoppedAt: 2,
      })),
    },
  };
}

describe('identify', () => {
  it('reads the job from the tags, or from the trainer environment when tags are absent', () => {
    // Prepare
    const tagged = batchEvent({ ...base, status: 'RUNNING' });
    const untagged: BatchJobStateChange = {
      ...tagged,
      detail: {
        ...tagged.detail,
        tags: undefined,
        container: {
          environment: [
            { name: 'WHETSTONE_TEAM', value: 'acme' },
            { name: 'WHETSTONE_JOB_ID', value: base.jobId },
            { name: 'WHETSTONE_LAUNCH', value: '2' },
          ],
        },
      },
    };
    const foreign: BatchJobStateChange = { ...tagged, detail: { ...tagged.detail, tags: { project: 'x' } } };

    // Act
    const results = [tagged, untagged, foreign].map(identify);

    // Assess
    expect(results).toEqual([base, base, undefined]);
  });
});

describe('failureOf', () => {
  it.each([
    [
      failed('Host EC2 (instance i-0abc) terminated.', { exitCode: 143 }, 3),
      'compute_interrupted',
      'The instance running the job went away on each of its 3 attempts (Host EC2 (instance i-0abc) terminated.); no attempts are left.',
    ],
    [
      failed('Job attempt duration exceeded timeout', { exitCode: 137 }),
      'timeout',
      "The job's attempt ran longer than its limit (whetstone.max_runtime_minutes) and was stopped.",
    ],
    [
      failed(SHUTDOWN_REASON, { exitCode: 143 }),
      'platform_stopped',
      `${SHUTDOWN_REASON}; the job did not finish. Create it again to train.`,
    ],
    [
      // A trainer stopped before it could set its SIGTERM handler dies of the signal itself.
      failed(SHUTDOWN_REASON, { exitCode: 143, reason: 'killed by SIGTERM' }),
      'platform_stopped',
      `${SHUTDOWN_REASON}; the job did not finish. Create it again to train.`,
    ],
    [
      failed('Essential container in task exited', {
        exitCode: 1,
        reason: 'OutOfMemoryError: Container killed',
      }),
      'training_failed',
      'The trainer stopped with exit code 1 (Essential container in task exited: OutOfMemoryError: Container killed) ' +
        "without reporting an error. Its log is in the attempt's log stream.",
    ],
  ])('names the cause (%#)', (event, code, message) => {
    // Act
    const error = failureOf(event);

    // Assess
    expect(error).toEqual({ code, message, param: null });
  });

  it('says the compute could not start a job that never ran', () => {
    // Prepare
    const event = batchEvent({
      ...base,
      status: 'FAILED',
      statusReason: 'CannotStartContainerError: no image',
    });

    // Act
    const error = failureOf(event);

    // Assess
    expect(error).toEqual({
      code: 'compute_failed',
      message: 'The compute could not start the job: CannotStartContainerError: no image.',
      param: null,
    });
  });
});

describe('mergeAttempts', () => {
  it('records a running attempt, completes it when listed, and keeps other launches', () => {
    // Prepare
    const earlier = {
      launch: 1,
      attempt: 1,
      compute_job_id: 'old',
      started_at: 10,
      stopped_at: 20,
      exit_code: 143,
      reason: 'paused',
      instance_type: 'g5.xlarge',
      market: 'spot' as const,
      region: 'us-east-1',
    };
    const running = batchEvent({ ...base, status: 'RUNNING', computeJobId: 'new', time: 5_000 });
    const retried = batchEvent({
      ...base,
      status: 'RUNNABLE',
      computeJobId: 'new',
      ended: [
        { exitCode: 143, reason: 'Host EC2 (instance i-1) terminated.', startedAt: 5_000, stoppedAt: 9_000 },
      ],
    });

    // Act
    const afterRunning = mergeAttempts([earlier], 2, running, 5_000);
    const afterRetry = mergeAttempts(afterRunning, 2, retried, 9_500);

    // Assess
    expect(afterRunning).toEqual([
      earlier,
      {
        launch: 2,
        attempt: 1,
        compute_job_id: 'new',
        started_at: 5,
        stopped_at: null,
        exit_code: null,
        reason: null,
        instance_type: null,
        market: null,
        region: null,
      },
    ]);
    expect(afterRetry).toEqual([
      earlier,
      {
        launch: 2,
        attempt: 1,
        compute_job_id: 'new',
        started_at: 5,
        stopped_at: 9,
        exit_code: 143,
        reason: 'Host EC2 (instance i-1) terminated.',
        instance_type: null,
        market: null,
        region: null,
      },
    ]);
  });
});

import { describe, expect, it } from 'vitest';
import { computeEventMetrics, isStuckJobCancel } from '../../../lambdas/events/metrics';
import { batchEvent } from '../../helpers/compute-events';

const base = { team: 'acme', jobId: 'ftjob-01J00000000000000000000000', launch: 1 } as const;

describe('compute event metrics', () => {
  it.each([
    ['Canceled by JobStateTimeLimit action due to reason: CAPACITY:INSUFFICIENT_INSTANCE_CAPACITY', true],
    ['Terminated by JobStateTimeLimit action due to reason: CAPACITY:INSUFFICIENT_INSTANCE_CAPACITY', true],
    [
      'Canceled by JobStateTimeLimit action due to reason: MISCONFIGURATION:COMPUTE_ENVIRONMENT_MAX_RESOURCE',
      true,
    ],
    ['MISCONFIGURATION:JOB_RESOURCE_REQUIREMENT', true],
    ['CAPACITY:INSUFFICIENT_INSTANCE_CAPACITY - Service cannot fulfill the capacity requested', true],
    ['Cancelled by user', false],
    ['Essential container in task exited', false],
    ['Host EC2 (instance i-0abc) terminated.', false],
    ['reason: CAPACITY:INSUFFICIENT_INSTANCE_CAPACITY', false],
  ])('count %j as a stuck job cancelled by its queue: %s', (statusReason, stuck) => {
    // Act
    const failed = isStuckJobCancel(batchEvent({ ...base, status: 'FAILED', statusReason }));
    const runnable = isStuckJobCancel(batchEvent({ ...base, status: 'RUNNABLE', statusReason }));

    // Assess
    expect(failed).toBe(stuck);
    expect(runnable).toBe(false);
  });

  it('count the status a job moved to, and a stuck job when Batch cancelled it', () => {
    // Prepare
    const stuck = batchEvent({
      ...base,
      status: 'FAILED',
      statusReason:
        'Canceled by JobStateTimeLimit action due to reason: CAPACITY:INSUFFICIENT_INSTANCE_CAPACITY',
    });
    const running = batchEvent({ ...base, status: 'RUNNING' });

    // Act
    const afterStuck = computeEventMetrics(stuck, { from: 'queued', to: 'failed' });
    const afterRunning = computeEventMetrics(running, { from: 'queued', to: 'running' });

    // Assess
    expect(afterStuck).toEqual([
      { name: 'JobStatusChanges', value: 1, unit: 'Count', dimensions: { Status: 'failed' } },
      { name: 'StuckJobsCancelled', value: 1, unit: 'Count', dimensions: {} },
    ]);
    expect(afterRunning).toEqual([
      { name: 'JobStatusChanges', value: 1, unit: 'Count', dimensions: { Status: 'running' } },
    ]);
  });
});

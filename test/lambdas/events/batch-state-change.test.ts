import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { JobDeps } from '../../../lambdas/jobs/deps';
import type { StoredJob } from '../../../lib/adapters';
import type { BatchJobStateChange } from '../../../lib/core/jobs';
import { batchEvent } from '../../helpers/compute-events';
import { startTestPlatform, type TestPlatform } from '../../helpers/platform';
import { storedJob } from '../../helpers/stored-job';

const WEST_QUEUE = 'arn:aws:batch:us-west-2:123456789012:job-queue/whetstone-a10g-spot';
const NOW = 1_700_000_123_456;

function inQueue(event: BatchJobStateChange, jobQueue: string): BatchJobStateChange {
  return { ...event, region: 'us-west-2', detail: { ...event.detail, jobQueue } };
}

describe('the events handler', () => {
  let platform: TestPlatform;
  let deps: JobDeps;
  let handlerFor: typeof import('../../../lambdas/events/batch-state-change').batchStateChangeHandler;
  let context: ReturnType<typeof import('../../../lambdas/runtime/invocation').localInvocationContext>;

  beforeAll(async () => {
    platform = await startTestPlatform();
    ({ batchStateChangeHandler: handlerFor } = await import('../../../lambdas/events/batch-state-change'));
    const { jobDeps } = await import('../../../lambdas/runtime/dependencies');
    deps = { ...jobDeps, now: () => NOW };
    context = (await import('../../../lambdas/runtime/invocation')).localInvocationContext('events', 60_000);
  });
  afterAll(() => platform?.stop());

  async function seedJob(launch: StoredJob['launch']): Promise<StoredJob> {
    const job = storedJob({ launch });
    expect(await deps.stores.jobs.create(job)).toBe(true);
    return job;
  }

  it('writes one EMF line for each status an event moves a job to, and none for a repeat', async () => {
    // Prepare
    const lines: string[] = [];
    const handler = handlerFor(deps, (line) => lines.push(line));
    const stuck = await seedJob({ number: 1, state: 'submitted', compute_job_id: null, progress: null });
    const started = await seedJob({ number: 1, state: 'submitted', compute_job_id: null, progress: null });
    const cancelled = batchEvent({
      team: 'default',
      jobId: stuck.job.id,
      launch: 1,
      status: 'FAILED',
      statusReason:
        'Canceled by JobStateTimeLimit action due to reason: CAPACITY:INSUFFICIENT_INSTANCE_CAPACITY',
    });
    const running = batchEvent({ team: 'default', jobId: started.job.id, launch: 1, status: 'RUNNING' });

    // Act
    await handler(cancelled, context);
    await handler(cancelled, context);
    await handler(running, context);

    // Assess
    expect(lines).toEqual([
      JSON.stringify({
        _aws: {
          Timestamp: NOW,
          CloudWatchMetrics: [
            {
              Namespace: 'Whetstone',
              Dimensions: [['Status']],
              Metrics: [{ Name: 'JobStatusChanges', Unit: 'Count' }],
            },
            {
              Namespace: 'Whetstone',
              Dimensions: [[]],
              Metrics: [{ Name: 'StuckJobsCancelled', Unit: 'Count' }],
            },
          ],
        },
        Status: 'failed',
        JobStatusChanges: 1,
        StuckJobsCancelled: 1,
      }),
      JSON.stringify({
        _aws: {
          Timestamp: NOW,
          CloudWatchMetrics: [
            {
              Namespace: 'Whetstone',
              Dimensions: [['Status']],
              Metrics: [{ Name: 'JobStatusChanges', Unit: 'Count' }],
            },
          ],
        },
        Status: 'running',
        JobStatusChanges: 1,
      }),
    ]);
    expect((await deps.stores.jobs.get('default', stuck.job.id))?.job.status).toBe('failed');
  });

  it("records the queue of the compute job an event names first, and stops unwanted compute in its queue's region", async () => {
    // Prepare
    const handler = handlerFor(deps, () => undefined);
    const terminate = vi.spyOn(deps.launcher, 'terminate');
    const early = await seedJob({ number: 1, state: 'submitting', compute_job_id: null, progress: null });
    const relaunched = await seedJob({ number: 2, state: 'waiting', compute_job_id: null, progress: null });

    // Act
    await handler(
      inQueue(
        batchEvent({
          team: 'default',
          jobId: early.job.id,
          launch: 1,
          status: 'RUNNING',
          computeJobId: 'batch-early',
        }),
        WEST_QUEUE,
      ),
      context,
    );
    await handler(
      inQueue(
        batchEvent({
          team: 'default',
          jobId: relaunched.job.id,
          launch: 1,
          status: 'RUNNING',
          computeJobId: 'batch-old-launch',
        }),
        WEST_QUEUE,
      ),
      context,
    );

    // Assess
    const stored = await deps.stores.jobs.get('default', early.job.id);
    expect(stored?.launch).toMatchObject({ compute_job_id: 'batch-early', compute_queue: WEST_QUEUE });
    expect(terminate.mock.calls).toEqual([
      [
        { computeJobId: 'batch-old-launch', queue: WEST_QUEUE },
        `No longer wanted by ${relaunched.job.id}: a superseded launch or a repeated submission`,
      ],
    ]);
    terminate.mockRestore();
  });
});

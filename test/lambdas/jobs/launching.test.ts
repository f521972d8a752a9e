import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { JobDeps } from '../../../lambdas/jobs/deps';
import type { Launcher, StoredJob } from '../../../lib/adapters';
import { startTestPlatform, type TestPlatform } from '../../helpers/platform';
import { storedJob } from '../../helpers/stored-job';

const WEST_QUEUE = 'arn:aws:batch:us-west-2:123456789012:job-queue/whetstone-a10g-spot';

/** The queue a launch went to travels with the job, so stopping it reaches the queue's region. */
describe('the compute queue on the job record', () => {
  let platform: TestPlatform;
  let deps: JobDeps;
  let launching: typeof import('../../../lambdas/jobs/launching');
  let service: typeof import('../../../lambdas/jobs/service');
  const launcher = {
    placementProblem: () => undefined,
    submit: vi.fn<Launcher['submit']>(async () => ({ computeJobId: 'batch-west', queue: WEST_QUEUE })),
    terminate: vi.fn<Launcher['terminate']>(async () => undefined),
  } satisfies Launcher;

  beforeAll(async () => {
    platform = await startTestPlatform();
    launching = await import('../../../lambdas/jobs/launching');
    service = await import('../../../lambdas/jobs/service');
    const { jobDeps } = await import('../../../lambdas/runtime/dependencies');
    deps = { ...jobDeps, launcher };
  });
  afterAll(() => platform?.stop());

  async function seedJob(launch: StoredJob['launch']): Promise<StoredJob> {
    const job = storedJob({ launch });
    expect(await deps.stores.jobs.create(job)).toBe(true);
    return job;
  }

  it('records the queue a launch was submitted to, and a cancel terminates the job there', async () => {
    // Prepare
    const job = await seedJob({ number: 1, state: 'waiting', compute_job_id: null, progress: null });
    launcher.terminate.mockClear();

    // Act
    const launched = await launching.tryLaunch(deps, 'default', job.job.id);
    const recorded = (await deps.stores.jobs.get('default', job.job.id))?.launch;
    await service.controlJob(deps, 'default', job.job.id, 'cancel');

    // Assess
    expect(launched).toBe('launched');
    expect(recorded).toEqual({
      number: 1,
      state: 'submitted',
      compute_job_id: 'batch-west',
      compute_queue: WEST_QUEUE,
      progress: null,
    });
    expect(launcher.terminate.mock.calls).toEqual([
      [{ computeJobId: 'batch-west', queue: WEST_QUEUE }, `Cancelled at the user's request (${job.job.id})`],
    ]);
  });

  it('still terminates a launch recorded before queues were kept, in the default region', async () => {
    // Prepare
    const job = await seedJob({ number: 1, state: 'submitted', compute_job_id: 'batch-old', progress: null });
    launcher.terminate.mockClear();

    // Act
    await service.controlJob(deps, 'default', job.job.id, 'cancel');

    // Assess
    expect(launcher.terminate.mock.calls).toEqual([
      [{ computeJobId: 'batch-old', queue: undefined }, `Cancelled at the user's request (${job.job.id})`],
    ]);
  });
});

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canTransition, isTerminal } from '../../../lib/core/jobs';
import type { FineTuningJob, JobEvent, JobStatus } from '../../../lib/core/schemas';
import {
  createJob,
  ensureTinyModel,
  getJob,
  hasStatus,
  type TrainerBehaviour,
  trainerMetadata,
  uploadTrainingFile,
  waitForJob,
} from '../../helpers/jobs';
import { startTestPlatform, type TestPlatform } from '../../helpers/platform';

/**
 * Many jobs of one team at once, under a running-job limit, with trainers that succeed, fail,
 * get killed, and users who cancel, pause and resume at random moments. Whatever the
 * interleaving: every job ends, each job's status-change events form one unbroken path through
 * the lifecycle table, attempts are numbered without gaps, and no running-job slot leaks.
 */

type Plan =
  | { readonly kind: 'trainer'; readonly behaviour: TrainerBehaviour | TrainerBehaviour[] }
  | { readonly kind: 'cancel'; readonly afterMs: number }
  | { readonly kind: 'pause-resume'; readonly afterMs: number }
  | { readonly kind: 'kill'; readonly afterMs: number };

const planArbitrary: fc.Arbitrary<Plan> = fc.oneof(
  fc.record({
    kind: fc.constant('trainer' as const),
    behaviour: fc.oneof<fc.Arbitrary<TrainerBehaviour | TrainerBehaviour[]>[]>(
      fc.record({ mode: fc.constant('succeed' as const), runMs: fc.integer({ min: 0, max: 800 }) }),
      fc.record({
        mode: fc.constant('fail' as const),
        exitCode: fc.constantFrom(1, 2, 3),
        runMs: fc.integer({ min: 0, max: 800 }),
      }),
      fc.constant([
        { mode: 'exit' as const, exitCode: 143 },
        { mode: 'succeed' as const, runMs: 100 },
      ]),
    ),
  }),
  fc.record({ kind: fc.constant('cancel' as const), afterMs: fc.integer({ min: 0, max: 3000 }) }),
  fc.record({ kind: fc.constant('pause-resume' as const), afterMs: fc.integer({ min: 0, max: 3000 }) }),
  fc.record({ kind: fc.constant('kill' as const), afterMs: fc.integer({ min: 500, max: 3000 }) }),
);

describe('job lifecycle under load and faults', () => {
  let platform: TestPlatform;

  beforeAll(async () => {
    platform = await startTestPlatform({ jobs: { concurrency: 2, maxRunningPerTeam: 3 } });
    await ensureTinyModel(platform);
  });
  afterAll(() => platform?.stop());

  it('ends every job along the lifecycle, numbers attempts without gaps and frees every slot', async () => {
    // Prepare
    const key = await platform.createTeamKey('chaos', 'member');
    const file = await uploadTrainingFile(platform, key);
    const plans = fc.sample(planArbitrary, {
      numRuns: 24,
      seed: Number(process.env.WHETSTONE_CHAOS_SEED ?? 7),
    });
    const post = (jobId: string, action: string) =>
      platform.call(key, 'POST', `/v1/fine_tuning/jobs/${jobId}/${action}`);
    const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

    // Act
    const jobs = await Promise.all(
      plans.map(async (plan) => {
        const behaviour = plan.kind === 'trainer' ? plan.behaviour : ({ mode: 'run' } as const);
        const response = await createJob(platform, key, {
          model: 'tiny-llama',
          training_file: file,
          metadata: trainerMetadata(behaviour),
        });
        const job = (await response.json()) as FineTuningJob;
        if (plan.kind === 'trainer') return job;
        await sleep(plan.afterMs);
        if (plan.kind === 'kill') {
          const log = join(platform.platform.dataDir, 'jobs', job.id, 'launch-1-attempt-1.log');
          const pid = /pid=(\d+)/.exec(safeRead(log))?.[1];
          if (pid) process.kill(Number(pid), 'SIGKILL');
        } else if (plan.kind === 'pause-resume') {
          if ((await post(job.id, 'pause')).status === 200) {
            await waitForJob(
              platform,
              key,
              job.id,
              hasStatus('paused', 'failed', 'succeeded', 'cancelled'),
              60_000,
            );
            await post(job.id, 'resume');
          }
        }
        // Whatever it did, a job steered by hand ends by cancel.
        await post(job.id, 'cancel');
        return job;
      }),
    );
    const finished = await Promise.all(
      jobs.map((job) => waitForJob(platform, key, job.id, (current) => isTerminal(current.status), 120_000)),
    );

    // Assess
    for (const job of finished) {
      const events = await allEvents(platform, key, job.id);
      const changes = events
        .filter((event) => event.data && typeof event.data.status === 'string')
        .map((event) => [event.data?.previous_status, event.data?.status] as [JobStatus, JobStatus]);
      let status: JobStatus = 'validating_files';
      for (const [from, to] of changes) {
        expect({ job: job.id, from }).toEqual({ job: job.id, from: status });
        expect({ job: job.id, edge: `${from}->${to}`, allowed: canTransition(from, to) }).toMatchObject({
          allowed: true,
        });
        status = to;
      }
      expect(status).toBe(job.status);
      const launches = new Map<number, number[]>();
      for (const attempt of job.whetstone?.attempts ?? []) {
        launches.set(attempt.launch, [...(launches.get(attempt.launch) ?? []), attempt.attempt]);
      }
      for (const numbers of launches.values()) expect(numbers).toEqual(numbers.map((_, index) => index + 1));
    }
    const { jobDeps } = await import('../../../lambdas/runtime/dependencies');
    expect(await jobDeps.stores.jobs.slotsInUse('chaos')).toBe(0);
    expect(await jobDeps.stores.jobs.waiting('chaos', 100)).toEqual([]);
    expect((await getJob(platform, key, jobs[0]?.id ?? '')).status).toMatch(/^(succeeded|failed|cancelled)$/);
  });
});

function safeRead(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

async function allEvents(platform: TestPlatform, key: string, jobId: string): Promise<JobEvent[]> {
  const events: JobEvent[] = [];
  let after: string | undefined;
  for (;;) {
    const response = await platform.call(
      key,
      'GET',
      `/v1/fine_tuning/jobs/${jobId}/events?limit=100${after ? `&after=${after}` : ''}`,
    );
    const page = (await response.json()) as { data: JobEvent[]; has_more: boolean };
    events.push(...page.data);
    if (!page.has_more) return events.reverse();
    after = page.data.at(-1)?.id;
  }
}

import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobStore, StoredJob } from '../../lib/adapters';
import type { ComputeStatus, DesiredStatus } from '../../lib/core/jobs';
import type { JobStatus } from '../../lib/core/schemas';
import { batchEvent, type EndedAttempt } from './compute-events';
import { startTestPlatform, type TestPlatform } from './platform';
import { storedJob } from './stored-job';

/**
 * Random compute histories of one launch, delivered to the real events handler duplicated and
 * shuffled, against DynamoDB Local. The oracle below is written from the design's words, not
 * from the production table: a job shows the status of the furthest event it has been told of
 * (attempts in order, and within one the phases in order), FAILED read through the stop
 * intent; events of another launch move nothing; every attempt that ran is recorded once.
 */

type Phase = 'RUNNABLE' | 'STARTING' | 'RUNNING' | 'SUCCEEDED' | 'FAILED';
const PHASE_ORDER: Record<Phase, number> = { RUNNABLE: 0, STARTING: 1, RUNNING: 2, SUCCEEDED: 3, FAILED: 3 };

interface HistoryEvent {
  readonly status: Phase;
  /** Zero-based attempt the event is about. */
  readonly attempt: number;
  /** Attempts the event lists as ended. */
  readonly ended: number;
  readonly launch: number;
}

function oracleStatus(furthest: HistoryEvent | undefined, desired: DesiredStatus): JobStatus {
  if (!furthest) return 'queued';
  switch (furthest.status) {
    case 'RUNNABLE':
    case 'STARTING':
      return 'queued';
    case 'RUNNING':
      return 'running';
    case 'SUCCEEDED':
      return 'succeeded';
    case 'FAILED':
      return desired === 'running' ? 'failed' : desired;
  }
}

/** A launch ends once, with SUCCEEDED or FAILED, so that event is further than any other of it. */
function isFurther(candidate: HistoryEvent, than: HistoryEvent | undefined): boolean {
  if (!than) return true;
  const ends = (event: HistoryEvent) => event.status === 'SUCCEEDED' || event.status === 'FAILED';
  if (ends(than)) return false;
  if (ends(candidate)) return true;
  if (candidate.attempt !== than.attempt) return candidate.attempt > than.attempt;
  return PHASE_ORDER[candidate.status] > PHASE_ORDER[than.status];
}

/**
 * One launch as Batch reports it: each attempt RUNNABLE, STARTING, RUNNING; an interrupted
 * attempt shows as the next one's RUNNABLE listing it ended; the last may end SUCCEEDED or
 * FAILED, or the history may stop while the job is still on its way.
 */
const historyArbitrary = fc
  .record({
    attempts: fc.integer({ min: 1, max: 3 }),
    // `stopped`: a retry was announced, then the launch was stopped before that attempt began.
    ending: fc.constantFrom('SUCCEEDED', 'FAILED', 'stopped', 'none'),
    cutInLastAttempt: fc.integer({ min: 1, max: 3 }),
  })
  .map(({ attempts, ending, cutInLastAttempt }) => {
    const events: HistoryEvent[] = [];
    for (let attempt = 0; attempt < attempts; attempt++) {
      const last = attempt === attempts - 1;
      const phases: Phase[] = ['RUNNABLE', 'STARTING', 'RUNNING'];
      for (const status of last && ending === 'none' ? phases.slice(0, cutInLastAttempt) : phases) {
        events.push({ status, attempt, ended: attempt, launch: 1 });
      }
    }
    if (ending === 'stopped') {
      events.push({ status: 'RUNNABLE', attempt: attempts, ended: attempts, launch: 1 });
      events.push({ status: 'FAILED', attempt: attempts, ended: attempts, launch: 1 });
    } else if (ending !== 'none') {
      events.push({ status: ending as Phase, attempt: attempts - 1, ended: attempts, launch: 1 });
    }
    return events;
  });

const deliveryArbitrary = historyArbitrary.chain((history) =>
  fc.record({
    history: fc.constant(history),
    desired: fc.constantFrom<DesiredStatus>('running', 'paused', 'cancelled'),
    // Each event delivered 1-3 times, plus a few from another launch, all shuffled.
    copies: fc.array(fc.integer({ min: 1, max: 3 }), {
      minLength: history.length,
      maxLength: history.length,
    }),
    foreign: fc.array(
      fc.record({
        status: fc.constantFrom<Phase>('RUNNABLE', 'RUNNING', 'SUCCEEDED', 'FAILED'),
        attempt: fc.integer({ min: 0, max: 3 }),
        launch: fc.constantFrom(0, 2),
      }),
      { maxLength: 3 },
    ),
    seed: fc.integer(),
  }),
);

function ended(count: number): EndedAttempt[] {
  return Array.from({ length: count }, (_, index) => ({
    exitCode: 143,
    reason: `attempt ${index + 1} interrupted`,
    startedAt: 1_700_000_000_000 + index * 10_000,
    stoppedAt: 1_700_000_005_000 + index * 10_000,
  }));
}

function shuffled<T>(items: readonly T[], seed: number): T[] {
  const random =
    fc.sample(
      fc.array(fc.double({ min: 0, max: 1, noNaN: true }), {
        minLength: items.length,
        maxLength: items.length,
      }),
      { seed, numRuns: 1 },
    )[0] ?? [];
  return items
    .map((item, index) => ({ item, key: random[index] ?? 0 }))
    .sort((a, b) => a.key - b.key)
    .map(({ item }) => item);
}

/** The property, run `runs` times: the fast tier a few dozen, the slow tier hundreds. */
export function describeComputeEventProperty(runs: number): void {
  describe('Batch state changes, duplicated and out of order', () => {
    let platform: TestPlatform;
    let handle: (event: unknown) => Promise<void>;
    let jobs: JobStore;

    beforeAll(async () => {
      platform = await startTestPlatform();
      const events = await import('../../lambdas/events/batch-state-change');
      const { localInvocationContext } = await import('../../lambdas/runtime/invocation');
      handle = (event) => events.handler(event, localInvocationContext('events', 60_000));
      ({ jobs } = (await import('../../lambdas/runtime/dependencies')).stores);
    });
    afterAll(() => platform?.stop());

    async function seedJob(desired: DesiredStatus): Promise<StoredJob> {
      const seeded = storedJob({
        launch: { number: 1, state: 'submitted', compute_job_id: null, progress: null },
        desired,
      });
      // The compute job id names the job, as the events below do.
      const job = { ...seeded, launch: { ...seeded.launch, compute_job_id: `batch-${seeded.job.id}-1` } };
      expect(await jobs.create(job)).toBe(true);
      return job;
    }

    it(
      'shows the furthest event seen, never moves back, and records every attempt once',
      async () => {
        await fc.assert(
          fc.asyncProperty(deliveryArbitrary, async ({ history, desired, copies, foreign, seed }) => {
            // Prepare
            const job = await seedJob(desired);
            const deliveries = shuffled(
              [
                ...history.flatMap((event, index) => Array.from({ length: copies[index] ?? 1 }, () => event)),
                ...foreign.map((event) => ({ ...event, ended: event.attempt })),
              ],
              seed,
            );
            let furthest: HistoryEvent | undefined;

            for (const delivery of deliveries) {
              // Act
              await handle(
                batchEvent({
                  team: 'default',
                  jobId: job.job.id,
                  launch: delivery.launch,
                  status: delivery.status as ComputeStatus,
                  ended: ended(delivery.ended),
                }),
              );

              // Assess
              if (delivery.launch === 1 && isFurther(delivery, furthest)) furthest = delivery;
              const stored = await jobs.get('default', job.job.id);
              expect(stored?.job.status).toBe(oracleStatus(furthest, desired));
            }
            const final = await jobs.get('default', job.job.id);
            const ran = new Set(
              history
                .filter((event) => event.status === 'RUNNING' || event.ended > 0)
                .flatMap((event) =>
                  Array.from(
                    { length: event.status === 'RUNNING' ? event.attempt + 1 : event.ended },
                    (_, index) => index + 1,
                  ),
                ),
            );
            const launchOne = final?.job.whetstone.attempts.filter((attempt) => attempt.launch === 1) ?? [];
            expect(launchOne.map((attempt) => attempt.attempt)).toEqual([...ran].sort((a, b) => a - b));
            for (const attempt of launchOne.filter(
              (recorded) => recorded.attempt <= Math.max(0, ...history.map((event) => event.ended)),
            )) {
              expect(attempt.exit_code).toBe(143);
              expect(attempt.reason).toBe(`attempt ${attempt.attempt} interrupted`);
            }
          }),
          { numRuns: runs },
        );
        // Each run is a few dozen handler calls against DynamoDB Local.
      },
      runs * 2_000,
    );
  });
}

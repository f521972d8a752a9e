import { afterAll, beforeAll, describe, expect, it, type MockInstance, vi } from 'vitest';
import type { Launcher } from '../../../lib/adapters';
import type { ErrorBody, FineTuningJob } from '../../../lib/core/schemas';
import { createJob, ensureTinyModel, trainerMetadata, uploadTrainingFile } from '../../helpers/jobs';
import { startTestPlatform, type TestPlatform } from '../../helpers/platform';

/**
 * 100 creates at once, 40 of them sharing 20 Idempotency-Keys two by two and 60 without a key:
 * 20 jobs for the keyed requests plus 60 for the others make exactly 80 jobs and 80 launches.
 * The team's running-job limit is far above 80 so every create launches at once; the launcher
 * runs two trainers and queues the rest, and each trainer fails at once.
 */
const KEYS = 20;
const REQUESTS_PER_KEY = 2;
const UNKEYED = 60;
const EXPECTED_JOBS = KEYS + UNKEYED;

/** How a client answers "still in progress": wait a little and send the same request again. */
const RETRY_DELAY_MS = 100;
const MAX_TRIES = 100;

describe('concurrent job creation', () => {
  let platform: TestPlatform;
  let key: string;
  let trainingFile: string;
  let submit: MockInstance<Launcher['submit']>;

  beforeAll(async () => {
    platform = await startTestPlatform({ jobs: { maxRunningPerTeam: 1000, concurrency: 2 } });
    await ensureTinyModel(platform);
    key = await platform.createTeamKey('crowd', 'member');
    trainingFile = await uploadTrainingFile(platform, key);
    // The launcher the handlers use, in this process; the spy calls through.
    const { launcher } = await import('../../../lambdas/runtime/dependencies');
    submit = vi.spyOn(launcher, 'submit');
  });
  afterAll(async () => {
    vi.restoreAllMocks();
    await platform?.stop();
  });

  interface Outcome {
    readonly idempotencyKey: string | null;
    readonly status: number;
    readonly jobId: string | undefined;
    /** Answered from the first request's stored response. */
    readonly replayed: boolean;
    /** The error body of a request that did not succeed. */
    readonly error?: string;
  }

  async function create(idempotencyKey: string | null, group: string): Promise<Outcome> {
    const body = {
      model: 'tiny-llama',
      training_file: trainingFile,
      metadata: { ...trainerMetadata({ mode: 'fail' }), group },
    };
    const headers: Record<string, string> = idempotencyKey ? { 'Idempotency-Key': idempotencyKey } : {};
    for (let tries = 0; ; tries++) {
      const response = await createJob(platform, key, body, headers);
      const text = await response.text();
      if (response.status === 409 && tries < MAX_TRIES) {
        const { error } = JSON.parse(text) as ErrorBody;
        if (error.code === 'idempotency_key_in_use') {
          await new Promise((resolve) => setTimeout(resolve, RETRY_DELAY_MS));
          continue;
        }
      }
      const replayed = response.headers.get('idempotent-replayed') === 'true';
      return response.status === 200
        ? { idempotencyKey, status: 200, jobId: (JSON.parse(text) as FineTuningJob).id, replayed }
        : { idempotencyKey, status: response.status, jobId: undefined, replayed, error: text };
    }
  }

  async function listAllJobs(): Promise<FineTuningJob[]> {
    const jobs: FineTuningJob[] = [];
    let after: string | undefined;
    for (;;) {
      const query = `limit=100${after ? `&after=${after}` : ''}`;
      const response = await platform.call(key, 'GET', `/v1/fine_tuning/jobs?${query}`);
      expect(response.status).toBe(200);
      const page = (await response.json()) as { data: FineTuningJob[]; has_more: boolean };
      jobs.push(...page.data);
      if (!page.has_more) return jobs;
      after = page.data.at(-1)?.id;
    }
  }

  it('100 creates with 20 repeated Idempotency-Keys make exactly 80 jobs and 80 launches', async () => {
    // Prepare
    const keyed = Array.from({ length: KEYS * REQUESTS_PER_KEY }, (_, index) => `crowd-key-${index % KEYS}`);
    const requests = [
      ...keyed.map((idempotencyKey) => () => create(idempotencyKey, idempotencyKey)),
      ...Array.from({ length: UNKEYED }, (_, index) => () => create(null, `unkeyed-${index}`)),
    ];
    const launchesBefore = submit.mock.calls.length;

    // Act
    const outcomes = await Promise.all(requests.map((send) => send()));

    // Assess
    expect(outcomes.filter((outcome) => outcome.status !== 200)).toEqual([]);
    const ids = new Set(outcomes.map((outcome) => outcome.jobId));
    expect(ids.size).toBe(EXPECTED_JOBS);
    const idsByKey = new Map<string, Set<string | undefined>>();
    for (const { idempotencyKey, jobId } of outcomes) {
      if (!idempotencyKey) continue;
      idsByKey.set(idempotencyKey, (idsByKey.get(idempotencyKey) ?? new Set()).add(jobId));
    }
    expect(idsByKey.size).toBe(KEYS);
    expect([...idsByKey.values()].map((keyIds) => keyIds.size)).toEqual(Array(KEYS).fill(1));
    // Of the requests sharing a key, one created the job and the others were answered with it.
    const replays = outcomes.filter((outcome) => outcome.replayed);
    expect(replays).toHaveLength(KEYS * (REQUESTS_PER_KEY - 1));
    expect(new Set(replays.map((outcome) => outcome.idempotencyKey)).size).toBe(KEYS);
    const listed = await listAllJobs();
    expect(listed).toHaveLength(EXPECTED_JOBS);
    expect(new Set(listed.map((job) => job.id))).toEqual(ids);
    expect((await platform.countRecords()).job).toBe(EXPECTED_JOBS);
    expect(submit.mock.calls.length - launchesBefore).toBe(EXPECTED_JOBS);
    expect(new Set(submit.mock.calls.map(([request]) => request.jobId))).toEqual(ids);
  }, 120_000);
});

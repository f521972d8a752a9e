import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ErrorBody, FineTuningJob } from '../../../lib/core/schemas';
import {
  createJob,
  ensureTinyModel,
  eventMessages,
  getJob,
  hasStatus,
  type TrainerBehaviour,
  trainerMetadata,
  trainerStarted,
  uploadTrainingFile,
  waitFor,
  waitForJob,
} from '../../helpers/jobs';
import { startTestPlatform, type TestPlatform } from '../../helpers/platform';

/**
 * Jobs through their whole life on the local platform: the local launcher runs the test
 * trainer as a child process and its state changes reach the real events handler.
 * Each test works in a team of its own, so the per-team running-job limit (3 here) of one test
 * never holds up another; two trainers run at once on this machine.
 */
describe('job lifecycle on the local platform', () => {
  let platform: TestPlatform;

  beforeAll(async () => {
    platform = await startTestPlatform({ jobs: { concurrency: 2, maxRunningPerTeam: 3 } });
    await ensureTinyModel(platform);
  });
  afterAll(() => platform?.stop());

  async function teamWithFile(team: string): Promise<{ key: string; file: string }> {
    const key = await platform.createTeamKey(team, 'member');
    return { key, file: await uploadTrainingFile(platform, key) };
  }

  async function start(
    key: string,
    file: string,
    behaviour: TrainerBehaviour | TrainerBehaviour[],
    extra: Record<string, unknown> = {},
  ): Promise<FineTuningJob> {
    const response = await createJob(platform, key, {
      model: 'tiny-llama',
      training_file: file,
      metadata: trainerMetadata(behaviour),
      ...extra,
    });
    expect(response.status).toBe(200);
    return (await response.json()) as FineTuningJob;
  }

  const post = (key: string, jobId: string, action: 'cancel' | 'pause' | 'resume') =>
    platform.call(key, 'POST', `/v1/fine_tuning/jobs/${jobId}/${action}`);

  it('succeeds: the fine-tuned model is named, listed, and every status change is an event', async () => {
    // Prepare
    const { key, file } = await teamWithFile('winners');

    // Act
    const created = await start(key, file, { mode: 'succeed', runMs: 100 }, { suffix: 'v1' });
    const job = await waitForJob(platform, key, created.id, hasStatus('succeeded', 'failed'));

    // Assess
    const name = `ft:tiny-llama:winners:v1:${created.id.slice('ftjob-'.length).toLowerCase()}`;
    expect(job).toMatchObject({ status: 'succeeded', fine_tuned_model: name, error: null });
    expect(job.finished_at).toBeGreaterThanOrEqual(job.created_at);
    expect(job.whetstone?.attempts).toEqual([
      expect.objectContaining({
        launch: 1,
        attempt: 1,
        exit_code: 0,
        reason: 'Essential container in task exited',
      }),
    ]);
    const model = await platform.call(key, 'GET', `/v1/models/${encodeURIComponent(name)}`);
    expect(model.status).toBe(200);
    expect(await model.json()).toMatchObject({ id: name, object: 'model', owned_by: 'winners' });
    const messages = await eventMessages(platform, key, created.id);
    expect(messages.slice(0, 4)).toEqual([
      `Created fine-tuning job: ${created.id}`,
      `Validating training file: ${file}`,
      'Job queued.',
      expect.stringMatching(/^Launch 1 submitted to queue local as local-/),
    ]);
    expect(messages).toContain('Fine-tuning job started.');
    expect(messages.at(-1)).toBe(`The job has successfully completed. New fine-tuned model: ${name}`);
  });

  it('trains a new job on top of a fine-tuned model, and keeps other teams from it', async () => {
    // Prepare
    const { key, file } = await teamWithFile('stackers');
    const parent = await start(key, file, { mode: 'succeed' }, { suffix: 'base' });
    const { fine_tuned_model: name } = await waitForJob(platform, key, parent.id, hasStatus('succeeded'));
    const outsider = await teamWithFile('outsiders');

    // Act
    const child = await start(key, file, { mode: 'fail' }, { model: name });
    const foreign = await createJob(platform, outsider.key, { model: name, training_file: outsider.file });

    // Assess
    expect(child.model).toBe(name);
    const spec = JSON.parse(await platform.readObject(`artifacts/stackers/${child.id}/spec.json`)) as {
      model: Record<string, unknown>;
      fine_tuned_model: string;
    };
    expect(spec.model).toEqual({
      requested: name,
      base: 'tiny-llama',
      architecture: 'LlamaForCausalLM',
      uri: `s3://${platform.platform.bucket}/models/tiny-llama/`,
      parent_uri: `s3://${platform.platform.bucket}/artifacts/stackers/${parent.id}/adapter/`,
    });
    expect(spec.fine_tuned_model).toMatch(/^ft:tiny-llama:stackers::[0-9a-z]{26}$/);
    expect(foreign.status).toBe(400);
    expect(((await foreign.json()) as ErrorBody).error).toMatchObject({
      param: 'model',
      code: 'model_not_available',
    });
  });

  it('fails with a clear error when the trainer exits without one', async () => {
    // Prepare
    const { key, file } = await teamWithFile('losers');

    // Act
    const created = await start(key, file, { mode: 'fail', exitCode: 3 });
    const job = await waitForJob(platform, key, created.id, hasStatus('succeeded', 'failed'));

    // Assess
    expect(job.status).toBe('failed');
    expect(job.error).toEqual({
      code: 'training_failed',
      message:
        'The trainer stopped with exit code 3 (Essential container in task exited) without reporting an error. ' +
        "Its log is in the attempt's log stream.",
      param: null,
    });
    expect(job.whetstone?.attempts).toHaveLength(1);
  });

  it('retries an attempt killed by SIGKILL and records both attempts', async () => {
    // Prepare
    const { key, file } = await teamWithFile('killed');
    const created = await start(key, file, [{ mode: 'run' }, { mode: 'succeed', runMs: 100 }]);
    await waitForJob(platform, key, created.id, hasStatus('running'));
    const log = join(platform.platform.dataDir, 'jobs', created.id, 'launch-1-attempt-1.log');
    const pid = await waitFor(() => /pid=(\d+)/.exec(readFileSync(log, 'utf8'))?.[1]);

    // Act
    process.kill(Number(pid), 'SIGKILL');
    const job = await waitForJob(platform, key, created.id, hasStatus('succeeded', 'failed'));

    // Assess
    expect(job.status).toBe('succeeded');
    expect(job.whetstone?.attempts).toEqual([
      expect.objectContaining({
        launch: 1,
        attempt: 1,
        exit_code: 137,
        reason: 'Essential container in task exited: killed by SIGKILL',
      }),
      expect.objectContaining({ launch: 1, attempt: 2, exit_code: 0 }),
    ]);
    expect(readdirSync(join(platform.platform.dataDir, 'jobs', created.id)).sort()).toEqual([
      'launch-1-attempt-1.log',
      'launch-1-attempt-2.log',
    ]);
    expect(await eventMessages(platform, key, created.id)).toContain(
      'Attempt 1 ended (Essential container in task exited: killed by SIGKILL); retrying from the newest checkpoint.',
    );
  });

  it('pauses a running job at a checkpoint, resumes it as a new launch, then cancels it', async () => {
    // Prepare
    const { key, file } = await teamWithFile('pausers');
    const created = await start(key, file, { mode: 'run' });
    await trainerStarted(platform, key, created.id);

    // Act
    const pausing = await post(key, created.id, 'pause');
    const paused = await waitForJob(platform, key, created.id, hasStatus('paused'));
    const checkpoints = await platform.call(key, 'GET', `/v1/fine_tuning/jobs/${created.id}/checkpoints`);
    const resumed = await post(key, created.id, 'resume');
    const running = await waitForJob(platform, key, created.id, hasStatus('running'));
    await trainerStarted(platform, key, created.id);
    const cancelling = await post(key, created.id, 'cancel');
    const cancelled = await waitForJob(platform, key, created.id, hasStatus('cancelled'));

    // Assess
    expect(pausing.status).toBe(200);
    expect(((await pausing.json()) as FineTuningJob).whetstone?.desired_status).toBe('paused');
    expect(paused.whetstone?.attempts).toEqual([
      expect.objectContaining({ launch: 1, attempt: 1, exit_code: 143 }),
    ]);
    const checkpointPage = (await checkpoints.json()) as { data: { fine_tuning_job_id: string }[] };
    expect(checkpointPage.data).toHaveLength(1);
    expect(checkpointPage.data[0]?.fine_tuning_job_id).toBe(created.id);
    expect(resumed.status).toBe(200);
    expect(((await resumed.json()) as FineTuningJob).status).toMatch(/^(queued|running)$/);
    expect(running.whetstone?.desired_status).toBe('running');
    expect(cancelling.status).toBe(200);
    expect(cancelled.finished_at).not.toBeNull();
    expect(cancelled.whetstone?.attempts.map((attempt) => [attempt.launch, attempt.attempt])).toEqual([
      [1, 1],
      [2, 1],
    ]);
  });

  it('cancels a paused job at once, and refuses to move a finished one', async () => {
    // Prepare
    const { key, file } = await teamWithFile('finishers');
    const created = await start(key, file, { mode: 'run' });
    await waitForJob(platform, key, created.id, hasStatus('running'));
    await post(key, created.id, 'pause');
    await waitForJob(platform, key, created.id, hasStatus('paused'));

    // Act
    const cancel = await post(key, created.id, 'cancel');
    const again = await post(key, created.id, 'cancel');
    const pause = await post(key, created.id, 'pause');
    const resume = await post(key, created.id, 'resume');

    // Assess
    expect(cancel.status).toBe(200);
    expect(((await cancel.json()) as FineTuningJob).status).toBe('cancelled');
    expect(again.status).toBe(409);
    // The SDK would retry a 409 twice more; this one will never change.
    expect(again.headers.get('x-should-retry')).toBe('false');
    expect(((await again.json()) as ErrorBody).error).toEqual({
      message: `Job ${created.id} has already been cancelled; a finished job cannot be cancelled.`,
      type: 'invalid_request_error',
      param: null,
      code: 'job_finished',
    });
    expect(pause.status).toBe(409);
    expect(resume.status).toBe(409);
  });

  it('holds jobs beyond the team limit in queued, launching them as slots free, and cancels in each state', async () => {
    // Prepare: 3 slots, 2 trainers at once: two run, a third waits in the launcher, a fourth for a slot.
    const { key, file } = await teamWithFile('crowd');
    const first = await start(key, file, { mode: 'run' });
    const second = await start(key, file, { mode: 'run' });
    await waitForJob(platform, key, first.id, hasStatus('running'));
    await waitForJob(platform, key, second.id, hasStatus('running'));
    const third = await start(key, file, { mode: 'run' });
    const fourth = await start(key, file, { mode: 'run' });

    // Act: pausing a queued job is refused; cancelling the one waiting for a slot is immediate.
    const pauseQueued = await post(key, fourth.id, 'pause');
    const cancelWaiting = await post(key, fourth.id, 'cancel');
    const fifth = await start(key, file, { mode: 'run' });
    const fifthBefore = await getJob(platform, key, fifth.id);
    // Cancelling the job queued in the launcher stops it there and frees its slot for the fifth.
    const cancelQueued = await post(key, third.id, 'cancel');
    const thirdAfter = await waitForJob(platform, key, third.id, hasStatus('cancelled'));
    const fifthEvents = await waitFor(async () => {
      const messages = await eventMessages(platform, key, fifth.id);
      return messages.some((message) => message.startsWith('Launch 1 submitted')) ? messages : undefined;
    });
    const cancelRunning = await post(key, first.id, 'cancel');
    await waitForJob(platform, key, first.id, hasStatus('cancelled'));
    const fifthRunning = await waitForJob(platform, key, fifth.id, hasStatus('running'));

    // Assess
    expect(third.status).toBe('queued');
    expect(pauseQueued.status).toBe(409);
    expect(((await pauseQueued.json()) as ErrorBody).error.message).toBe(
      `Only a running job can be paused; job ${fourth.id} is queued.`,
    );
    expect(cancelWaiting.status).toBe(200);
    expect(((await cancelWaiting.json()) as FineTuningJob).status).toBe('cancelled');
    expect(fifthBefore.status).toBe('queued');
    expect(await eventMessages(platform, key, fourth.id)).not.toContainEqual(
      expect.stringMatching(/^Launch 1 submitted/),
    );
    expect(cancelQueued.status).toBe(200);
    expect(thirdAfter.whetstone?.attempts).toEqual([]);
    expect(fifthEvents).toContainEqual(expect.stringMatching(/^Launch 1 submitted/));
    expect(cancelRunning.status).toBe(200);
    expect(fifthRunning.status).toBe('running');
    for (const job of [second, fifth]) await post(key, job.id, 'cancel');
    await waitForJob(platform, key, fifth.id, hasStatus('cancelled'));
  });

  it('cancels a job still validating its files without asking for compute', async () => {
    // Prepare: a record in validating_files, as the create handler writes it before queueing.
    const { key, file } = await teamWithFile('early');
    const created = await start(key, file, { mode: 'fail' });
    await waitForJob(platform, key, created.id, hasStatus('failed'));
    const { jobDeps } = await import('../../../lambdas/runtime/dependencies');
    const stored = await jobDeps.stores.jobs.get('early', created.id);
    if (!stored) throw new Error('stored job missing');
    const early = {
      ...stored,
      version: 1,
      launch: { number: 0, state: 'none' as const, compute_job_id: null, progress: null },
      job: {
        ...stored.job,
        id: created.id.replace(/.$/, (last) => (last === 'A' ? 'B' : 'A')),
        status: 'validating_files' as const,
        finished_at: null,
        error: null,
        whetstone: { ...stored.job.whetstone, attempts: [] },
      },
    };
    expect(await jobDeps.stores.jobs.create(early)).toBe(true);

    // Act
    const pause = await post(key, early.job.id, 'pause');
    const cancel = await post(key, early.job.id, 'cancel');

    // Assess
    expect(pause.status).toBe(409);
    expect(cancel.status).toBe(200);
    expect(((await cancel.json()) as FineTuningJob).status).toBe('cancelled');
  });
});

import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatTime } from '../../../lib/cli/output';
import { WhetstoneClient } from '../../../lib/client';
import type { FineTuningJob, JobEvent } from '../../../lib/core/schemas';
import {
  ensureTinyModel,
  hasStatus,
  type TrainerBehaviour,
  trainerMetadata,
  trainerStarted,
  uploadTrainingFile,
  waitForJob,
} from '../../helpers/jobs';
import { startTestPlatform, type TestPlatform } from '../../helpers/platform';
import { isolatedEnv, tableOf, whet } from '../whet';

/** What the trainer printed when told to fail with exit code `code`, as the job's error says. */
const trainerFailure = (code: number) =>
  `The trainer stopped with exit code ${code} (Essential container in task exited) without reporting an error. ` +
  "Its log is in the attempt's log stream.";

/** How `whet jobs events` and `whet jobs wait` print one event. */
const eventLine = (event: JobEvent) =>
  `${formatTime(event.created_at)}  ${event.level.padEnd(5)}  ${event.message}`;

describe('whet jobs', () => {
  let platform: TestPlatform;
  let scratch: string;
  /** No user config and no credentials file: only what a test passes reaches the CLI. */
  let isolated: Record<string, string>;

  beforeAll(async () => {
    platform = await startTestPlatform();
    await ensureTinyModel(platform);
    scratch = mkdtempSync(join(tmpdir(), 'whetstone-cli-jobs-'));
    isolated = isolatedEnv(scratch);
  });
  afterAll(async () => {
    await platform?.stop();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  /** A team of its own with a training file, and the CLI's environment for its member key. */
  async function team(name: string) {
    const key = await platform.createTeamKey(name, 'member');
    return {
      key,
      client: new WhetstoneClient({ url: platform.url, apiKey: key }),
      file: await uploadTrainingFile(platform, key),
      env: { ...isolated, WHETSTONE_URL: platform.url, WHETSTONE_API_KEY: key },
    };
  }

  function start(client: WhetstoneClient, file: string, behaviour: TrainerBehaviour): Promise<FineTuningJob> {
    return client.fineTuning.jobs.create({
      model: 'tiny-llama',
      training_file: file,
      metadata: trainerMetadata(behaviour),
    });
  }

  async function eventsOldestFirst(client: WhetstoneClient, jobId: string): Promise<JobEvent[]> {
    return [...(await client.fineTuning.jobs.listEvents(jobId, { limit: 100 })).data].reverse();
  }

  it('creates a job from its options, then lists and shows it', { timeout: 60_000 }, async () => {
    // Prepare
    const { key, file, env } = await team('creators');
    const args = [
      'jobs',
      'create',
      '--model',
      'tiny-llama',
      '--training-file',
      file,
      '--suffix',
      'nightly',
      '--seed',
      '7',
      '--epochs',
      '3',
      '--batch-size',
      'auto',
      '--learning-rate-multiplier',
      '0.5',
      '--lora-rank',
      '16',
      '--lora-alpha',
      '32',
      '--gpu-type',
      'none',
      '--market',
      'on-demand',
      '--max-cost-usd',
      '5',
      '--max-seq-length',
      '512',
      '--packing',
      '--checkpoint-every',
      '50',
      '--metadata',
      'test_trainer={"mode":"fail"}',
      'owner=ops',
      '--idempotency-key',
      'nightly-1',
    ];

    // Act
    const createdJson = await whet([...args, '--json'], env);
    const replayed = await whet(args, env);
    const created = JSON.parse(createdJson.stdout) as FineTuningJob;
    const job = await waitForJob(platform, key, created.id, hasStatus('failed'));
    const [listed, filteredOut, shown] = await Promise.all([
      whet(['jobs', 'list', '--metadata', 'owner=ops'], env),
      whet(['jobs', 'list', '--metadata', 'owner=ops', '--metadata', 'batch=weekly'], env),
      whet(['jobs', 'get', created.id], env),
    ]);

    // Assess
    expect([createdJson.code, createdJson.stderr]).toEqual([0, '']);
    expect(created).toMatchObject({
      model: 'tiny-llama',
      training_file: file,
      seed: 7,
      hyperparameters: { n_epochs: 3, batch_size: 'auto', learning_rate_multiplier: 0.5 },
      metadata: { test_trainer: '{"mode":"fail"}', owner: 'ops' },
      whetstone: {
        options: {
          training_method: 'lora',
          lora: { rank: 16, alpha: 32 },
          gpu_type: 'none',
          market: 'on-demand',
          max_cost_usd: 5,
          max_seq_length: 512,
          packing: true,
          checkpoint_interval_steps: 50,
        },
      },
    });
    expect(replayed).toEqual({
      code: 0,
      stdout: `Created fine-tuning job ${created.id} (${created.status}).\nFollow it with: whet jobs wait ${created.id}\n`,
      stderr: '',
    });
    expect(tableOf(listed.stdout)).toEqual([
      ['ID', 'STATUS', 'MODEL', 'FINE-TUNED MODEL', 'CREATED'],
      [created.id, 'failed', 'tiny-llama', '-', formatTime(created.created_at)],
    ]);
    expect(filteredOut).toEqual({ code: 0, stdout: 'No jobs.\n', stderr: '' });
    const metadata = Object.entries(job.metadata ?? {})
      .map(([name, value]) => `${name}=${value}`)
      .join(', ');
    expect(shown).toEqual({
      code: 0,
      stdout: [
        `id:              ${created.id}`,
        'status:          failed',
        'model:           tiny-llama',
        `training file:   ${file}`,
        'method:          lora (rank 16, alpha 32)',
        'hyperparameters: epochs 3, batch size auto, learning rate multiplier 0.5',
        'compute:         CPU, on-demand, at most $5',
        'seed:            7',
        `created:         ${formatTime(created.created_at)}`,
        `finished:        ${formatTime(job.finished_at)}`,
        'attempts:        1',
        `error:           training_failed: ${trainerFailure(1)}`,
        `metadata:        ${metadata}`,
        '',
      ].join('\n'),
      stderr: '',
    });
  });

  it('waits for a job that succeeds, printing each event once, and exits 0', {
    timeout: 60_000,
  }, async () => {
    // Prepare
    const { client, file, env } = await team('winners');
    const created = await start(client, file, { mode: 'succeed', runMs: 1500 });

    // Act
    const waited = await whet(['jobs', 'wait', created.id, '--interval', '0.2'], env);
    const [events, lastTwo] = await Promise.all([
      whet(['jobs', 'events', created.id], env),
      whet(['jobs', 'events', created.id, '--limit', '2'], env),
    ]);

    // Assess
    const job = await client.fineTuning.jobs.retrieve(created.id);
    const lines = (await eventsOldestFirst(client, created.id)).map(eventLine);
    expect(job.status).toBe('succeeded');
    expect(lines.at(-1)).toMatch(
      /The job has successfully completed\. New fine-tuned model: ft:tiny-llama:winners::/,
    );
    // Events written by two processes at once may surface in another order than their ids sort.
    const followed = waited.stdout.split('\n');
    expect([waited.code, waited.stderr]).toEqual([0, '']);
    expect(followed.slice(0, -2).sort()).toEqual([...lines].sort());
    expect(followed.slice(-3)).toEqual([
      lines.at(-1),
      `Job ${created.id} succeeded: fine-tuned model ${job.fine_tuned_model}.`,
      '',
    ]);
    expect(events).toEqual({ code: 0, stdout: [...lines, ''].join('\n'), stderr: '' });
    const page = await client.fineTuning.jobs.listEvents(created.id, { limit: 2 });
    expect(lastTwo).toEqual({
      code: 0,
      stdout: [
        `(earlier: whet jobs events ${created.id} --after ${page.last_id})`,
        ...lines.slice(-2),
        '',
      ].join('\n'),
      stderr: '',
    });
  });

  it('waits for a job that fails: exit 1, naming the job and its error code', {
    timeout: 60_000,
  }, async () => {
    // Prepare
    const { client, file, env } = await team('losers');
    const created = await start(client, file, { mode: 'fail', exitCode: 3 });

    // Act
    const waited = await whet(['jobs', 'wait', created.id, '--interval', '0.2'], env);
    const [asJson, cancel] = await Promise.all([
      whet(['jobs', 'wait', created.id, '--json'], env),
      whet(['jobs', 'cancel', created.id], env),
    ]);

    // Assess
    const job = await client.fineTuning.jobs.retrieve(created.id);
    const lines = (await eventsOldestFirst(client, created.id)).map(eventLine);
    expect(lines.at(-1)).toContain(`error  The job failed: ${trainerFailure(3)}`);
    expect([waited.code, waited.stderr]).toEqual([
      1,
      `error: Job ${created.id} failed (training_failed): ${trainerFailure(3)}\n`,
    ]);
    expect(waited.stdout.split('\n').slice(0, -1).sort()).toEqual([...lines].sort());
    expect(waited.stdout.endsWith(`${lines.at(-1)}\n`)).toBe(true);
    expect(asJson.code).toBe(1);
    expect(JSON.parse(asJson.stdout)).toEqual(job);
    expect(cancel).toEqual({
      code: 1,
      stdout: '',
      stderr: `error: Job ${created.id} has already failed; a finished job cannot be cancelled.\n`,
    });
  });

  it('pauses a running job, shows its checkpoint, resumes and cancels it', { timeout: 90_000 }, async () => {
    // Prepare
    const { key, client, file, env } = await team('pausers');
    const created = await start(client, file, { mode: 'run' });
    await waitForJob(platform, key, created.id, hasStatus('running'));
    await trainerStarted(platform, key, created.id);

    // Act
    const impatient = await whet(['jobs', 'wait', created.id, '--timeout', '0.5', '--interval', '0.2'], env);
    const paused = await whet(['jobs', 'pause', created.id], env);
    const untilPaused = await whet(['jobs', 'wait', created.id, '--interval', '0.2'], env);
    const checkpoints = await whet(['jobs', 'checkpoints', created.id], env);
    const [checkpoint] = (await client.fineTuning.jobs.listCheckpoints(created.id)).data;
    const resumed = await whet(['jobs', 'resume', created.id], env);
    const cancelled = await whet(['jobs', 'cancel', created.id], env);
    const untilCancelled = await whet(['jobs', 'wait', created.id, '--interval', '0.2'], env);

    // Assess
    expect(impatient.code).toBe(1);
    expect(impatient.stderr).toBe(
      `error: Job ${created.id} is still running after 0.5 s; it goes on without the wait.\n`,
    );
    expect(paused).toEqual({
      code: 0,
      stdout: `Pause requested for ${created.id}; it is running, pausing.\n`,
      stderr: '',
    });
    expect(untilPaused.code).toBe(0);
    expect(untilPaused.stdout.split('\n').slice(-3)).toEqual([
      expect.stringMatching(/ {2}info {3}Job paused; resume continues from the newest checkpoint\.$/),
      `Job ${created.id} is paused; continue it with: whet jobs resume ${created.id}`,
      '',
    ]);
    expect(tableOf(checkpoints.stdout)).toEqual([
      ['ID', 'STEP', 'TRAIN LOSS', 'VALID LOSS', 'CREATED', 'CHECKPOINT'],
      [
        checkpoint?.id,
        String(checkpoint?.step_number),
        String(Number((1 / (checkpoint?.step_number ?? 1)).toPrecision(6))),
        '-',
        formatTime(checkpoint?.created_at ?? null),
        checkpoint?.fine_tuned_model_checkpoint,
      ],
    ]);
    expect(resumed.stdout).toMatch(
      new RegExp(`^Resume requested for ${created.id}; it is (queued|running)\\.\\n$`),
    );
    expect(cancelled.stdout).toMatch(
      new RegExp(
        `^Cancel requested for ${created.id}; it is (cancelled|queued, cancelling|running, cancelling)\\.\\n$`,
      ),
    );
    expect(untilCancelled.code).toBe(1);
    expect(untilCancelled.stdout).toContain('  info   The job was cancelled.\n');
    expect(untilCancelled.stderr).toBe(`error: Job ${created.id} was cancelled.\n`);
  });

  it('rides out a gateway that answers 503 for a while', { timeout: 60_000 }, async () => {
    // Prepare
    const { key, client, file, env } = await team('patient');
    const created = await start(client, file, { mode: 'succeed' });
    await waitForJob(platform, key, created.id, hasStatus('succeeded'));
    let refusals = 2;
    const flaky: Server = createServer((request, response) => {
      if (refusals > 0) {
        refusals -= 1;
        response.writeHead(503, 'Service Unavailable').end('try later');
        return;
      }
      void fetch(`${platform.url}${request.url}`, {
        method: request.method,
        headers: { Authorization: request.headers.authorization ?? '' },
      }).then(async (upstream) => {
        response.writeHead(upstream.status, { 'Content-Type': 'application/json' });
        response.end(await upstream.text());
      });
    });
    await new Promise<void>((resolve) => flaky.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(flaky.address() as AddressInfo).port}`;

    // Act
    const waited = await whet(['jobs', 'wait', created.id, '--url', url], env);
    await new Promise<void>((resolve) => flaky.close(() => resolve()));

    // Assess
    expect(refusals).toBe(0);
    expect(waited.code).toBe(0);
    expect(waited.stderr).toBe('');
    expect(waited.stdout.split('\n').at(-2)).toBe(
      `Job ${created.id} succeeded: fine-tuned model ${(await client.fineTuning.jobs.retrieve(created.id)).fine_tuned_model}.`,
    );
  });

  it('refuses bad option values before any request, naming the option', { timeout: 60_000 }, async () => {
    // Prepare
    const create = ['jobs', 'create', '--model', 'tiny-llama', '--training-file', 'file-x'];
    const cases: [string[], string][] = [
      [
        [...create, '--epochs', '0'],
        "error: option '--epochs <n|auto>' argument '0' is invalid. '0' is not a whole number from 1 to 50, or auto.",
      ],
      [
        [...create, '--market', 'cheap'],
        "error: option '--market <market>' argument 'cheap' is invalid. Allowed choices are spot, on-demand.",
      ],
      [
        [...create, '--metadata', 'novalue'],
        "error: option '--metadata <key=value...>' argument 'novalue' is invalid. 'novalue' is not a key=value pair.",
      ],
      [
        [...create, '--learning-rate-multiplier', '1e3'],
        "error: option '--learning-rate-multiplier <x|auto>' argument '1e3' is invalid. '1e3' is not a number from 0.000001 to 100, or auto.",
      ],
      [
        [...create, '--method', 'partial'],
        'error: --method partial needs --partial-layers or --partial-modules (or both) to say what trains.',
      ],
      [
        [...create, '--method', 'full', '--lora-rank', '4'],
        'error: --lora-rank and --lora-alpha apply only with --method lora, not --method full.',
      ],
      [
        ['jobs', 'list', '--limit', '101'],
        "error: option '--limit <n>' argument '101' is invalid. '101' is more than 100, the most one page holds.",
      ],
      [
        ['jobs', 'wait', 'ftjob-x', '--timeout', 'soon'],
        "error: option '--timeout <seconds>' argument 'soon' is invalid. 'soon' is not a number of seconds above 0.",
      ],
    ];

    // Act
    const runs = await Promise.all(cases.map(([args]) => whet(args, isolated)));

    // Assess
    // With no target configured, a command that got as far as a request would say so instead.
    expect(runs.map((run) => [run.code, run.stdout, run.stderr.split('\n')[0]])).toEqual(
      cases.map(([, message]) => [1, '', message]),
    );
  });
});

/** Running as the compute sees it is not yet training: the trainer says when it has started. */

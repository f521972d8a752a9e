import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  InvalidLauncherOptionsError,
  LauncherClosedError,
  type LaunchRequest,
  LocalLauncher,
  type LocalLauncherOptions,
} from '../../../lib/adapters';
import { newId } from '../../../lib/core/ids';
import { type BatchJobStateChange, batchJobStateChangeSchema } from '../../../lib/core/jobs';

const TEST_TRAINER = resolve(__dirname, '..', '..', 'helpers', 'trainer', 'test-trainer.ts');
const BASE_ENV = { WHETSTONE_TABLE: 'whetstone-test', WHETSTONE_BUCKET: 'whetstone-test-data' };
const FIXED_NOW = 1_700_000_000_000;

const workDir = mkdtempSync(join(tmpdir(), 'whetstone-launcher-'));
afterAll(() => rmSync(workDir, { recursive: true, force: true }));

const launchers: LocalLauncher[] = [];
afterEach(async () => {
  await Promise.all(launchers.splice(0).map((launcher) => launcher.shutdown()));
});

/** Every event the launcher delivered, in delivery order, as EventBridge would send it (JSON). */
function recordingSink() {
  const events: BatchJobStateChange[] = [];
  const sink = async (event: BatchJobStateChange) => {
    events.push(JSON.parse(JSON.stringify(event)) as BatchJobStateChange);
  };
  return { events, sink };
}

function startLauncher(options: Partial<LocalLauncherOptions> & { behaviour?: unknown } = {}): {
  launcher: LocalLauncher;
  events: BatchJobStateChange[];
  logDir: string;
} {
  const { events, sink } = recordingSink();
  const logDir = mkdtempSync(join(workDir, 'logs-'));
  const { behaviour, ...rest } = options;
  const launcher = new LocalLauncher({
    trainerEntry: TEST_TRAINER,
    env: { ...BASE_ENV, ...(behaviour ? { TEST_TRAINER_BEHAVIOUR: JSON.stringify(behaviour) } : {}) },
    logDir,
    concurrency: 2,
    sink,
    terminateGraceMs: 5_000,
    sinkRetryDelaysMs: [10, 10, 10],
    ...rest,
  });
  launchers.push(launcher);
  return { launcher, events, logDir };
}

function launchRequest(overrides: Partial<LaunchRequest> = {}): LaunchRequest {
  const jobId = newId('job');
  return {
    team: 'research',
    jobId,
    launch: 1,
    specUri: `s3://whetstone-test-data/artifacts/research/${jobId}/spec.json`,
    gpuType: 'none',
    market: 'spot',
    attemptTimeoutSeconds: 600,
    ...overrides,
  };
}

function eventsOf(events: readonly BatchJobStateChange[], computeJobId: string): BatchJobStateChange[] {
  return events.filter((event) => event.detail.jobId === computeJobId);
}

function statusesOf(events: readonly BatchJobStateChange[], computeJobId: string): string[] {
  return eventsOf(events, computeJobId).map((event) => event.detail.status);
}

function finalEvent(events: readonly BatchJobStateChange[], computeJobId: string): BatchJobStateChange {
  const last = eventsOf(events, computeJobId).at(-1);
  if (!last) throw new Error(`no events for ${computeJobId}`);
  return last;
}

function logFile(logDir: string, request: LaunchRequest, attempt: number): string {
  return join(logDir, request.jobId, `launch-${request.launch}-attempt-${attempt}.log`);
}

async function eventually<T>(what: string, probe: () => T | undefined, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolveWait) => setTimeout(resolveWait, 25));
  }
}

/** The trainer prints its pid first thing, after which it handles SIGTERM. */
async function trainerPid(path: string): Promise<number> {
  return eventually(`a pid in ${path}`, () => {
    const match = existsSync(path) ? /^pid=(\d+)$/m.exec(readFileSync(path, 'utf8')) : null;
    return match ? Number(match[1]) : undefined;
  });
}

describe('LocalLauncher', () => {
  it('runs a trainer to SUCCEEDED, reporting each state change as a Batch Job State Change event', async () => {
    // Prepare
    const { launcher, events, logDir } = startLauncher({
      behaviour: { mode: 'succeed' },
      now: () => FIXED_NOW,
    });
    const request = launchRequest({ launch: 2 });

    // Act
    const result = await launcher.submit(request);
    await launcher.idle();

    // Assess
    expect(result.queue).toBe('local');
    expect(result.computeJobId).toMatch(/^local-[0-9a-f-]{36}$/);
    expect(statusesOf(events, result.computeJobId)).toEqual(['RUNNABLE', 'STARTING', 'RUNNING', 'SUCCEEDED']);
    for (const event of events) expect(batchJobStateChangeSchema.parse(event)).toEqual(event);
    const jobArn = `arn:aws:batch:local:000000000000:job/${result.computeJobId}`;
    const log = logFile(logDir, request, 1);
    const environment = [
      { name: 'WHETSTONE_JOB_ID', value: request.jobId },
      { name: 'WHETSTONE_TEAM', value: 'research' },
      { name: 'WHETSTONE_LAUNCH', value: '2' },
      { name: 'WHETSTONE_SPEC_URI', value: request.specUri },
      { name: 'WHETSTONE_TABLE', value: 'whetstone-test' },
      { name: 'WHETSTONE_BUCKET', value: 'whetstone-test-data' },
      { name: 'WHETSTONE_ENV', value: 'local' },
    ];
    const common = {
      jobArn,
      jobName: `whetstone-research-${request.jobId}-l2`,
      jobId: result.computeJobId,
      jobQueue: 'arn:aws:batch:local:000000000000:job-queue/local',
      createdAt: FIXED_NOW,
      retryStrategy: {
        attempts: 3,
        evaluateOnExit: [
          { onStatusReason: 'Host EC2*', action: 'RETRY' },
          { onExitCode: '143', action: 'RETRY' },
          { onReason: '*', action: 'EXIT' },
        ],
      },
      parameters: {},
      tags: { 'whetstone:team': 'research', 'whetstone:job-id': request.jobId, 'whetstone:launch': '2' },
    };
    const [runnable, , running, succeeded] = eventsOf(events, result.computeJobId);
    expect(runnable).toEqual({
      version: '0',
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      'detail-type': 'Batch Job State Change',
      source: 'aws.batch',
      account: '000000000000',
      time: '2023-11-14T22:13:20Z',
      region: 'local',
      resources: [jobArn],
      detail: { ...common, status: 'RUNNABLE', attempts: [], container: { environment } },
    });
    expect(running?.detail).toEqual({
      ...common,
      status: 'RUNNING',
      attempts: [],
      startedAt: FIXED_NOW,
      container: { environment },
    });
    expect(succeeded?.detail).toEqual({
      ...common,
      status: 'SUCCEEDED',
      statusReason: 'Essential container in task exited',
      attempts: [
        {
          container: { exitCode: 0, logStreamName: log },
          startedAt: FIXED_NOW,
          stoppedAt: FIXED_NOW,
          statusReason: 'Essential container in task exited',
        },
      ],
      startedAt: FIXED_NOW,
      stoppedAt: FIXED_NOW,
      container: { environment, exitCode: 0, logStreamName: log },
    });
    expect(new Set(events.map((event) => event.id)).size).toBe(4);
    expect(readFileSync(log, 'utf8')).toContain('attempt=1 mode=succeed\n');
  });

  it("gives a plain JavaScript trainer, run by node itself, the contract's environment and nothing of this process's", async () => {
    // Prepare
    const entry = join(workDir, 'print-env.js');
    writeFileSync(entry, 'process.stdout.write(JSON.stringify(process.env));\n');
    process.env.WHETSTONE_LEAK_PROBE = 'must not reach the trainer';
    const { launcher, logDir } = startLauncher({
      trainerEntry: entry,
      env: { ...BASE_ENV, AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:4569' },
    });
    const request = launchRequest();

    // Act
    const { computeJobId } = await launcher.submit(request);
    await launcher.idle();
    delete process.env.WHETSTONE_LEAK_PROBE;

    // Assess
    const childEnv = JSON.parse(readFileSync(logFile(logDir, request, 1), 'utf8')) as Record<string, string>;
    const inherited = ['PATH', 'HOME', 'TMPDIR', 'LANG', 'TZ'].filter(
      (name) => process.env[name] !== undefined,
    );
    expect(Object.keys(childEnv).sort()).toEqual(
      [
        ...inherited,
        'AWS_BATCH_JOB_ATTEMPT',
        'AWS_BATCH_JOB_ID',
        'AWS_ENDPOINT_URL_S3',
        'WHETSTONE_BUCKET',
        'WHETSTONE_ENV',
        'WHETSTONE_JOB_ID',
        'WHETSTONE_LAUNCH',
        'WHETSTONE_SPEC_URI',
        'WHETSTONE_TABLE',
        'WHETSTONE_TEAM',
      ].sort(),
    );
    expect(childEnv).toMatchObject({
      AWS_BATCH_JOB_ATTEMPT: '1',
      AWS_BATCH_JOB_ID: computeJobId,
      AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:4569',
      WHETSTONE_BUCKET: 'whetstone-test-data',
      WHETSTONE_ENV: 'local',
      WHETSTONE_JOB_ID: request.jobId,
      WHETSTONE_LAUNCH: '1',
      WHETSTONE_SPEC_URI: request.specUri,
      WHETSTONE_TABLE: 'whetstone-test',
      WHETSTONE_TEAM: 'research',
    });
  });

  it('runs no more trainers at once than its concurrency; the rest wait in submission order', async () => {
    // Prepare
    const { launcher, events } = startLauncher({
      behaviour: { mode: 'succeed', runMs: 200 },
      concurrency: 1,
    });

    // Act
    const results = [];
    for (let index = 0; index < 3; index += 1) results.push(await launcher.submit(launchRequest()));
    await launcher.idle();

    // Assess
    const [first, second, third] = results.map((result) => result.computeJobId);
    const order = events.map((event) => `${event.detail.jobId}:${event.detail.status}`);
    for (const id of [first, second, third]) {
      expect(statusesOf(events, id as string)).toEqual(['RUNNABLE', 'STARTING', 'RUNNING', 'SUCCEEDED']);
    }
    expect(order.indexOf(`${second}:STARTING`)).toBeGreaterThan(order.indexOf(`${first}:SUCCEEDED`));
    expect(order.indexOf(`${third}:STARTING`)).toBeGreaterThan(order.indexOf(`${second}:SUCCEEDED`));
    let running = 0;
    let mostRunning = 0;
    for (const event of events) {
      if (event.detail.status === 'STARTING') running += 1;
      if (event.detail.status === 'SUCCEEDED') running -= 1;
      mostRunning = Math.max(mostRunning, running);
    }
    expect(mostRunning).toBe(1);
  });

  it('starts a new attempt after exit 143, listing the ended attempt, and succeeds on the second', async () => {
    // Prepare
    const { launcher, events, logDir } = startLauncher({
      behaviour: [{ mode: 'exit', exitCode: 143 }, { mode: 'succeed' }],
    });
    const request = launchRequest();

    // Act
    const { computeJobId } = await launcher.submit(request);
    await launcher.idle();

    // Assess
    expect(statusesOf(events, computeJobId)).toEqual([
      'RUNNABLE',
      'STARTING',
      'RUNNING',
      'RUNNABLE',
      'STARTING',
      'RUNNING',
      'SUCCEEDED',
    ]);
    const retried = eventsOf(events, computeJobId)[3];
    expect(retried?.detail.statusReason).toBeUndefined();
    expect(retried?.detail.attempts).toEqual([
      {
        container: { exitCode: 143, logStreamName: logFile(logDir, request, 1) },
        startedAt: expect.any(Number),
        stoppedAt: expect.any(Number),
        statusReason: 'Essential container in task exited',
      },
    ]);
    const done = finalEvent(events, computeJobId).detail;
    expect(done.attempts.map((attempt) => attempt.container?.exitCode)).toEqual([143, 0]);
    expect(done.container?.exitCode).toBe(0);
    expect(readFileSync(logFile(logDir, request, 1), 'utf8')).toContain('attempt=1 mode=exit\n');
    expect(readFileSync(logFile(logDir, request, 2), 'utf8')).toContain('attempt=2 mode=succeed\n');
  });

  it('starts a new attempt after the trainer is killed by SIGKILL from outside, and the record shows both', async () => {
    // Prepare
    const { launcher, events, logDir } = startLauncher({ behaviour: [{ mode: 'run' }, { mode: 'succeed' }] });
    const request = launchRequest();
    const { computeJobId } = await launcher.submit(request);
    const firstPid = await trainerPid(logFile(logDir, request, 1));

    // Act
    process.kill(firstPid, 'SIGKILL');
    await launcher.idle();

    // Assess
    const done = finalEvent(events, computeJobId).detail;
    expect(done.status).toBe('SUCCEEDED');
    expect(done.attempts).toEqual([
      {
        container: { exitCode: 137, reason: 'killed by SIGKILL', logStreamName: logFile(logDir, request, 1) },
        startedAt: expect.any(Number),
        stoppedAt: expect.any(Number),
        statusReason: 'Essential container in task exited',
      },
      {
        container: { exitCode: 0, logStreamName: logFile(logDir, request, 2) },
        startedAt: expect.any(Number),
        stoppedAt: expect.any(Number),
        statusReason: 'Essential container in task exited',
      },
    ]);
    const [first, second] = done.attempts;
    expect(second?.startedAt).toBeGreaterThanOrEqual(first?.stoppedAt as number);
    expect(await trainerPid(logFile(logDir, request, 2))).not.toBe(firstPid);
  });

  it('does not retry a trainer that exits 1: the job fails after one attempt', async () => {
    // Prepare
    const { launcher, events, logDir } = startLauncher({ behaviour: { mode: 'fail', exitCode: 1 } });
    const request = launchRequest();

    // Act
    const { computeJobId } = await launcher.submit(request);
    await launcher.idle();

    // Assess
    expect(statusesOf(events, computeJobId)).toEqual(['RUNNABLE', 'STARTING', 'RUNNING', 'FAILED']);
    const done = finalEvent(events, computeJobId).detail;
    expect(done.statusReason).toBe('Essential container in task exited');
    expect(done.attempts.map((attempt) => attempt.container?.exitCode)).toEqual([1]);
    expect(done.container).toMatchObject({ exitCode: 1 });
    expect(existsSync(logFile(logDir, request, 2))).toBe(false);
    expect(readFileSync(logFile(logDir, request, 1), 'utf8')).toContain(
      'test trainer: failing as told, exit 1\n',
    );
  });

  it('fails the job with three attempts when every attempt exits 143', async () => {
    // Prepare
    const { launcher, events, logDir } = startLauncher({ behaviour: { mode: 'exit', exitCode: 143 } });
    const request = launchRequest();

    // Act
    const { computeJobId } = await launcher.submit(request);
    await launcher.idle();

    // Assess
    expect(statusesOf(events, computeJobId)).toEqual([
      ...['RUNNABLE', 'STARTING', 'RUNNING'],
      ...['RUNNABLE', 'STARTING', 'RUNNING'],
      ...['RUNNABLE', 'STARTING', 'RUNNING'],
      'FAILED',
    ]);
    const done = finalEvent(events, computeJobId).detail;
    expect(done.statusReason).toBe('Essential container in task exited');
    expect(done.attempts.map((attempt) => attempt.container?.exitCode)).toEqual([143, 143, 143]);
    expect(readdirSync(join(logDir, request.jobId)).sort()).toEqual([
      'launch-1-attempt-1.log',
      'launch-1-attempt-2.log',
      'launch-1-attempt-3.log',
    ]);
  });

  it('terminates a running trainer with SIGTERM: it exits 143 and the job fails with the reason, not retried', async () => {
    // Prepare
    const { launcher, events, logDir } = startLauncher({ behaviour: { mode: 'run' } });
    const request = launchRequest();
    const submitted = await launcher.submit(request);
    const { computeJobId } = submitted;
    const pid = await trainerPid(logFile(logDir, request, 1));

    // Act
    await launcher.terminate(submitted, 'Cancelled by user');
    await launcher.idle();

    // Assess
    expect(statusesOf(events, computeJobId)).toEqual(['RUNNABLE', 'STARTING', 'RUNNING', 'FAILED']);
    const done = finalEvent(events, computeJobId).detail;
    expect(done.statusReason).toBe('Cancelled by user');
    expect(done.attempts).toEqual([
      {
        container: { exitCode: 143, logStreamName: logFile(logDir, request, 1) },
        startedAt: expect.any(Number),
        stoppedAt: expect.any(Number),
        statusReason: 'Cancelled by user',
      },
    ]);
    expect(readFileSync(logFile(logDir, request, 1), 'utf8')).toContain(`signal=SIGTERM pid=${pid}\n`);
  });

  it('kills a trainer that ignores SIGTERM with SIGKILL once the grace period is over', async () => {
    // Prepare
    const entry = join(workDir, 'ignore-sigterm.js');
    writeFileSync(
      entry,
      "process.on('SIGTERM', () => console.log('ignoring SIGTERM'));\nconsole.log('ready');\nsetInterval(() => {}, 60000);\n",
    );
    const { launcher, events, logDir } = startLauncher({ trainerEntry: entry, terminateGraceMs: 300 });
    const request = launchRequest();
    const submitted = await launcher.submit(request);
    const { computeJobId } = submitted;
    await eventually('the trainer to be ready', () =>
      readFileSync(logFile(logDir, request, 1), 'utf8').includes('ready') ? true : undefined,
    );

    // Act
    await launcher.terminate(submitted, 'Paused by user');
    await launcher.idle();

    // Assess
    const done = finalEvent(events, computeJobId).detail;
    expect(done.status).toBe('FAILED');
    expect(done.statusReason).toBe('Paused by user');
    expect(done.attempts.map((attempt) => attempt.container)).toEqual([
      { exitCode: 137, reason: 'killed by SIGKILL', logStreamName: logFile(logDir, request, 1) },
    ]);
    expect(readFileSync(logFile(logDir, request, 1), 'utf8')).toContain('ignoring SIGTERM\n');
  });

  it('terminates a job still waiting for a slot: it leaves the queue and fails with no attempts', async () => {
    // Prepare
    const { launcher, events } = startLauncher({ behaviour: { mode: 'run' }, concurrency: 1 });
    const running = await launcher.submit(launchRequest());
    const waiting = await launcher.submit(launchRequest());
    await eventually('the first job to run', () =>
      statusesOf(events, running.computeJobId).includes('RUNNING') ? true : undefined,
    );

    // Act
    await launcher.terminate(waiting, 'Cancelled by user');
    await launcher.terminate(
      { computeJobId: 'local-00000000-0000-0000-0000-000000000000', queue: undefined },
      'no such job',
    );
    await launcher.terminate(running, 'Cancelled by user');
    await launcher.idle();

    // Assess
    expect(statusesOf(events, waiting.computeJobId)).toEqual(['RUNNABLE', 'FAILED']);
    const done = finalEvent(events, waiting.computeJobId).detail;
    expect(done.statusReason).toBe('Cancelled by user');
    expect(done.attempts).toEqual([]);
    expect(done.startedAt).toBeUndefined();
    expect(done.container).toEqual({ environment: expect.any(Array) });
    expect(statusesOf(events, running.computeJobId)).toEqual(['RUNNABLE', 'STARTING', 'RUNNING', 'FAILED']);
  });

  it('stops an attempt that runs past its timeout and fails the job without a retry', async () => {
    // Prepare
    const { launcher, events } = startLauncher({ behaviour: { mode: 'run' } });

    // Act
    const { computeJobId } = await launcher.submit(launchRequest({ attemptTimeoutSeconds: 1 }));
    await launcher.idle();

    // Assess
    expect(statusesOf(events, computeJobId)).toEqual(['RUNNABLE', 'STARTING', 'RUNNING', 'FAILED']);
    const done = finalEvent(events, computeJobId).detail;
    expect(done.statusReason).toBe('Job attempt duration exceeded timeout');
    expect(done.attempts).toHaveLength(1);
  });

  it('fails a job whose trainer cannot be started, saying why', async () => {
    // Prepare
    const notADirectory = join(workDir, 'plain-file');
    writeFileSync(notADirectory, '');
    const { launcher, events } = startLauncher({ behaviour: { mode: 'succeed' }, logDir: notADirectory });
    const request = launchRequest();

    // Act
    const { computeJobId } = await launcher.submit(request);
    await launcher.idle();

    // Assess
    expect(statusesOf(events, computeJobId)).toEqual(['RUNNABLE', 'STARTING', 'FAILED']);
    const done = finalEvent(events, computeJobId).detail;
    expect(done.statusReason).toBe(
      `CannotStartContainerError: the trainer ${TEST_TRAINER} could not be started: ENOTDIR: not a directory, mkdir '${join(notADirectory, request.jobId)}'`,
    );
    expect(done.attempts).toHaveLength(1);
    expect(done.attempts[0]?.container?.exitCode).toBeUndefined();
  });

  it('retries a failing sink, then drops the event and reports it, while other jobs are delivered in order', async () => {
    // Prepare
    const delivered: BatchJobStateChange[] = [];
    const logged: string[] = [];
    let flakyCalls = 0;
    const brokenRequest = launchRequest();
    const { launcher } = startLauncher({
      behaviour: { mode: 'succeed' },
      sink: async (event) => {
        if (event.detail.tags?.['whetstone:job-id'] === brokenRequest.jobId) throw new Error('handler down');
        flakyCalls += 1;
        if (flakyCalls <= 2) throw new Error('throttled');
        delivered.push(event);
      },
      log: (message) => logged.push(message),
    });

    // Act
    const healthy = await launcher.submit(launchRequest());
    const broken = await launcher.submit(brokenRequest);
    await launcher.idle();

    // Assess
    expect(statusesOf(delivered, healthy.computeJobId)).toEqual([
      'RUNNABLE',
      'STARTING',
      'RUNNING',
      'SUCCEEDED',
    ]);
    expect(statusesOf(delivered, broken.computeJobId)).toEqual([]);
    expect(logged).toEqual(
      ['RUNNABLE', 'STARTING', 'RUNNING', 'SUCCEEDED'].map(
        (status) =>
          `Local launcher: dropped the ${status} event of compute job ${broken.computeJobId} after 4 failed deliveries`,
      ),
    );
  });

  it('on shutdown fails waiting jobs, stops running trainers and takes no more work', async () => {
    // Prepare
    const { launcher, events, logDir } = startLauncher({ behaviour: { mode: 'run' }, concurrency: 1 });
    const runningRequest = launchRequest();
    const running = await launcher.submit(runningRequest);
    const waiting = await launcher.submit(launchRequest());
    await trainerPid(logFile(logDir, runningRequest, 1));

    // Act
    await launcher.shutdown();
    const refused = await launcher.submit(launchRequest()).catch((error: unknown) => error);

    // Assess
    expect(statusesOf(events, running.computeJobId)).toEqual(['RUNNABLE', 'STARTING', 'RUNNING', 'FAILED']);
    expect(finalEvent(events, running.computeJobId).detail.statusReason).toBe(
      'The local launcher shut down while the job ran',
    );
    expect(
      finalEvent(events, running.computeJobId).detail.attempts.map((a) => a.container?.exitCode),
    ).toEqual([143]);
    expect(statusesOf(events, waiting.computeJobId)).toEqual(['RUNNABLE', 'FAILED']);
    expect(finalEvent(events, waiting.computeJobId).detail.statusReason).toBe(
      'The local launcher shut down before the job started',
    );
    expect(refused).toBeInstanceOf(LauncherClosedError);
  });

  it('refuses options it cannot run with, naming the option', () => {
    // Prepare
    const valid: LocalLauncherOptions = {
      trainerEntry: TEST_TRAINER,
      env: BASE_ENV,
      logDir: workDir,
      concurrency: 1,
      sink: async () => undefined,
    };

    // Act
    const attempts = [
      { ...valid, concurrency: 0 },
      { ...valid, trainerEntry: join(workDir, 'missing.ts') },
      { ...valid, env: { WHETSTONE_BUCKET: 'b' } },
      { ...valid, maxAttempts: 11 },
    ].map((options) => {
      try {
        new LocalLauncher(options);
        return undefined;
      } catch (error) {
        return error as InvalidLauncherOptionsError;
      }
    });

    // Assess
    expect(attempts.every((error) => error instanceof InvalidLauncherOptionsError)).toBe(true);
    expect(attempts.map((error) => error?.message)).toEqual([
      "Local launcher option 'concurrency' must be an integer from 1 to 9007199254740991, not 0",
      `Local launcher option 'trainerEntry' names no file: ${join(workDir, 'missing.ts')}`,
      "Local launcher option 'env.WHETSTONE_TABLE' must be set: the trainer contract requires it",
      "Local launcher option 'maxAttempts' must be an integer from 1 to 10, not 11",
    ]);
  });
});

import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { closeSync, mkdirSync, openSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { constants } from 'node:os';
import { dirname, extname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  type BatchAttempt,
  type BatchJobStateChange,
  type ComputeStatus,
  MAX_ATTEMPTS,
  RETRYABLE_EXIT_CODE,
  TRAINER_ENV,
} from '../../core/jobs';
import { batchRetryStrategy, computeJobName, computeTags } from './batch-launcher';
import { InvalidLauncherOptionsError, LauncherClosedError } from './errors';
import type { ComputeEventSink, ComputeJobRef, Launcher, LaunchRequest, LaunchResult } from './launcher';

export interface LocalLauncherOptions {
  /**
   * The trainer's entry file. TypeScript (`.ts`, `.mts`, `.cts`) runs as `node --import tsx
   * <entry>`, anything else as `node <entry>`. Node itself is the child, with no npm, npx or
   * tsx wrapper in between, so the launcher's signals reach the trainer directly.
   */
  readonly trainerEntry: string;
  /**
   * Every trainer's environment besides the contract's per-job variables: must hold
   * `WHETSTONE_TABLE` and `WHETSTONE_BUCKET`, and holds the local endpoints, region and
   * credentials. Nothing else is inherited from this process except `PATH`, `HOME`, `TMPDIR`,
   * `LANG` and `TZ`, as a container has only its image's environment.
   */
  readonly env: Readonly<Record<string, string>>;
  /** Each attempt's stdout and stderr go to `{logDir}/{jobId}/launch-{n}-attempt-{k}.log`. */
  readonly logDir: string;
  /** Trainers running at once; further jobs wait in submission order. */
  readonly concurrency: number;
  /** Attempts per launch, as Batch's retry strategy; default `MAX_ATTEMPTS` (3); 1 to 10 as Batch allows. */
  readonly maxAttempts?: number;
  /** Receives every state change, in order per job; the handler EventBridge invokes in AWS. */
  readonly sink: ComputeEventSink;
  /** Between SIGTERM and SIGKILL when a trainer is stopped; default 30 000 ms. */
  readonly terminateGraceMs?: number;
  /** Milliseconds since the epoch, for the events' timestamps; default `Date.now`. */
  readonly now?: () => number;
  /**
   * Waits between tries of a failing sink delivery, as EventBridge retries a failing target;
   * after the last try the event is dropped and reported to `log`. Default 100, 500, 2 000 ms.
   */
  readonly sinkRetryDelaysMs?: readonly number[];
  /** Where dropped events and other trouble that must not stop the launcher are reported; default `console.error`. */
  readonly log?: (message: string, error?: unknown) => void;
}

/** Batch's statusReason when a container ends by itself, successfully or not. */
export const CONTAINER_EXITED_REASON = 'Essential container in task exited';
/** Batch's statusReason when an attempt runs past its timeout; such an attempt is not retried. */
export const ATTEMPT_TIMEOUT_REASON = 'Job attempt duration exceeded timeout';
export const SHUTDOWN_REASON = 'The local launcher shut down while the job ran';
export const SHUTDOWN_BEFORE_START_REASON = 'The local launcher shut down before the job started';
export const LOCAL_QUEUE = 'local';

const ACCOUNT = '000000000000';
const REGION = 'local';
const QUEUE_ARN = `arn:aws:batch:${REGION}:${ACCOUNT}:job-queue/${LOCAL_QUEUE}`;
const INHERITED_ENV = ['PATH', 'HOME', 'TMPDIR', 'LANG', 'TZ'] as const;
const TYPESCRIPT_EXTENSIONS = ['.ts', '.mts', '.cts'];
/** setTimeout's longest delay; a longer attempt timeout waits that long, about 24 days. */
const MAX_TIMER_MS = 2 ** 31 - 1;

interface Attempt {
  readonly logFile: string;
  child?: ChildProcess;
  startedAt?: number;
  signalled: boolean;
  timers: NodeJS.Timeout[];
}

interface LocalJob {
  readonly computeJobId: string;
  readonly jobName: string;
  readonly request: LaunchRequest;
  readonly env: Readonly<Record<string, string>>;
  readonly createdAt: number;
  /** Ended attempts, as the events list them. */
  readonly attempts: BatchAttempt[];
  state: 'waiting' | 'active' | 'done';
  current?: Attempt;
  startedAt?: number;
  stoppedAt?: number;
  /** Set when the launcher stops the job (terminate, timeout, shutdown): it ends FAILED with this reason, never retried. */
  stopReason?: string;
  delivered: Promise<void>;
}

/**
 * AWS Batch on one machine: each launch is a job in a FIFO queue, run as a trainer child process
 * when one of `concurrency` slots frees, retried under Batch's rule (exit 143, or death by a
 * signal the launcher did not send) up to `maxAttempts`, and reported to `sink` as the "Batch Job
 * State Change" events Batch would send: no event for the submission itself, then RUNNABLE,
 * STARTING, RUNNING per attempt, and SUCCEEDED or FAILED.
 */
export class LocalLauncher implements Launcher {
  private readonly trainerArgs: readonly string[];
  private readonly baseEnv: Readonly<Record<string, string>>;
  private readonly logDir: string;
  private readonly concurrency: number;
  private readonly maxAttempts: number;
  private readonly sink: ComputeEventSink;
  private readonly terminateGraceMs: number;
  private readonly now: () => number;
  private readonly sinkRetryDelaysMs: readonly number[];
  private readonly log: (message: string, error?: unknown) => void;

  private readonly jobs = new Map<string, LocalJob>();
  private readonly waiting: LocalJob[] = [];
  private active = 0;
  private pendingDeliveries = 0;
  private idleWaiters: (() => void)[] = [];
  private closed = false;
  private shuttingDown: Promise<void> | undefined;
  private readonly killOnExit = () => {
    for (const job of this.jobs.values()) job.current?.child?.kill('SIGKILL');
  };
  private exitHookInstalled = false;

  constructor(options: LocalLauncherOptions) {
    const entry = resolve(requireString(options.trainerEntry, 'trainerEntry'));
    if (!isFile(entry)) throw new InvalidLauncherOptionsError('trainerEntry', `names no file: ${entry}`);
    this.trainerArgs = TYPESCRIPT_EXTENSIONS.includes(extname(entry))
      ? ['--import', pathToFileURL(createRequire(__filename).resolve('tsx')).href, entry]
      : [entry];
    this.baseEnv = validEnv(options.env);
    this.logDir = resolve(requireString(options.logDir, 'logDir'));
    this.concurrency = integerIn(options.concurrency, 'concurrency', 1, Number.MAX_SAFE_INTEGER);
    this.maxAttempts = integerIn(options.maxAttempts ?? MAX_ATTEMPTS, 'maxAttempts', 1, 10);
    if (typeof options.sink !== 'function')
      throw new InvalidLauncherOptionsError('sink', 'must be a function');
    this.sink = options.sink;
    this.terminateGraceMs = integerIn(
      options.terminateGraceMs ?? 30_000,
      'terminateGraceMs',
      0,
      MAX_TIMER_MS,
    );
    this.now = options.now ?? Date.now;
    this.sinkRetryDelaysMs = (options.sinkRetryDelaysMs ?? [100, 500, 2_000]).map((delay, index) =>
      integerIn(delay, `sinkRetryDelaysMs[${index}]`, 0, MAX_TIMER_MS),
    );
    this.log = options.log ?? ((message, error) => console.error(message, error ?? ''));
  }

  placementProblem(): string | undefined {
    return undefined;
  }

  async submit(request: LaunchRequest): Promise<LaunchResult> {
    if (this.closed) {
      throw new LauncherClosedError(
        `The local launcher is shutting down; job ${request.jobId} (launch ${request.launch}) was not started`,
      );
    }
    const computeJobId = `local-${randomUUID()}`;
    const job: LocalJob = {
      computeJobId,
      jobName: computeJobName(request),
      request,
      env: {
        ...this.baseEnv,
        [TRAINER_ENV.jobId]: request.jobId,
        [TRAINER_ENV.team]: request.team,
        [TRAINER_ENV.launch]: String(request.launch),
        [TRAINER_ENV.specUri]: request.specUri,
        [TRAINER_ENV.environment]: 'local',
      },
      createdAt: this.now(),
      attempts: [],
      state: 'waiting',
      delivered: Promise.resolve(),
    };
    this.jobs.set(computeJobId, job);
    this.waiting.push(job);
    this.emit(job, 'RUNNABLE');
    this.dispatch();
    return { computeJobId, queue: LOCAL_QUEUE };
  }

  async terminate({ computeJobId }: ComputeJobRef, reason: string): Promise<void> {
    const job = this.jobs.get(computeJobId);
    if (!job || job.state === 'done') return;
    if (job.state === 'waiting') {
      this.waiting.splice(this.waiting.indexOf(job), 1);
      this.finish(job, 'FAILED', reason);
      return;
    }
    job.stopReason = reason;
    this.stopAttempt(job);
  }

  /** Resolves once no job runs or waits and every event has been delivered or dropped. */
  idle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolveIdle) => this.idleWaiters.push(resolveIdle));
  }

  /**
   * Takes no more work: waiting jobs end FAILED at once, running trainers get SIGTERM (SIGKILL
   * after the grace period) and end FAILED without a retry. Resolves when every trainer has
   * exited and every event has been delivered or dropped.
   */
  shutdown(): Promise<void> {
    this.shuttingDown ??= (async () => {
      this.closed = true;
      for (const job of this.waiting.splice(0)) this.finish(job, 'FAILED', SHUTDOWN_BEFORE_START_REASON);
      for (const job of this.jobs.values()) {
        if (job.state !== 'active') continue;
        job.stopReason ??= SHUTDOWN_REASON;
        this.stopAttempt(job);
      }
      await this.idle();
      process.off('exit', this.killOnExit);
      this.exitHookInstalled = false;
    })();
    return this.shuttingDown;
  }

  private dispatch(): void {
    while (!this.closed && this.active < this.concurrency) {
      const job = this.waiting.shift();
      if (!job) return;
      this.startAttempt(job);
    }
  }

  private startAttempt(job: LocalJob): void {
    this.active += 1;
    job.state = 'active';
    const number = job.attempts.length + 1;
    const attempt: Attempt = {
      logFile: join(this.logDir, job.request.jobId, `launch-${job.request.launch}-attempt-${number}.log`),
      signalled: false,
      timers: [],
    };
    job.current = attempt;
    this.emit(job, 'STARTING');

    let child: ChildProcess;
    let logFd: number | undefined;
    try {
      mkdirSync(dirname(attempt.logFile), { recursive: true });
      logFd = openSync(attempt.logFile, 'a');
      // The child writes to its own copy of the descriptor, so output is never lost or
      // interleaved through this process, and nothing here buffers it.
      child = spawn(process.execPath, this.trainerArgs, {
        env: {
          ...job.env,
          AWS_BATCH_JOB_ID: job.computeJobId,
          AWS_BATCH_JOB_ATTEMPT: String(number),
        },
        stdio: ['ignore', logFd, logFd],
        // Its own process group, as a container is its own: a Ctrl-C meant for this process
        // reaches the trainer only through shutdown(), as SIGTERM with a grace period.
        detached: true,
      });
    } catch (error) {
      this.endAttempt(job, { startFailure: error });
      return;
    } finally {
      if (logFd !== undefined) closeSync(logFd);
    }
    attempt.child = child;
    this.installExitHook();
    let spawned = false;
    child.once('spawn', () => {
      spawned = true;
      attempt.startedAt = this.now();
      job.startedAt = attempt.startedAt;
      this.emit(job, 'RUNNING');
      const timeoutMs = Math.min(MAX_TIMER_MS, Math.max(0, job.request.attemptTimeoutSeconds * 1000));
      attempt.timers.push(
        setTimeout(() => {
          job.stopReason ??= ATTEMPT_TIMEOUT_REASON;
          this.stopAttempt(job);
        }, timeoutMs),
      );
    });
    child.on('error', (error) => {
      if (!spawned) this.endAttempt(job, { startFailure: error });
      else this.log(`Local launcher: signalling the trainer of ${job.request.jobId} failed`, error);
    });
    child.once('exit', (code, signal) => this.endAttempt(job, { code, signal }));
  }

  /** SIGTERM now, SIGKILL after the grace period; the exit then ends the attempt. */
  private stopAttempt(job: LocalJob): void {
    const attempt = job.current;
    if (!attempt?.child || attempt.signalled) return;
    attempt.signalled = true;
    const child = attempt.child;
    child.kill('SIGTERM');
    attempt.timers.push(setTimeout(() => child.kill('SIGKILL'), this.terminateGraceMs));
  }

  private endAttempt(
    job: LocalJob,
    outcome:
      | { readonly startFailure: unknown }
      | { readonly code: number | null; readonly signal: NodeJS.Signals | null },
  ): void {
    const attempt = job.current;
    if (!attempt || job.state !== 'active') return;
    for (const timer of attempt.timers) clearTimeout(timer);
    job.current = undefined;
    this.active -= 1;
    const stoppedAt = this.now();

    if ('startFailure' in outcome) {
      const reason = `CannotStartContainerError: the trainer ${this.trainerArgs.at(-1)} could not be started: ${messageOf(outcome.startFailure)}`;
      job.attempts.push({
        container: { reason, logStreamName: attempt.logFile },
        stoppedAt,
        statusReason: reason,
      });
      this.finish(job, 'FAILED', reason);
    } else {
      const { code, signal } = outcome;
      // As Docker reports it: a death by signal N is exit code 128 + N.
      const exitCode = code ?? 128 + (signal ? (constants.signals[signal] ?? 0) : 0);
      const statusReason = job.stopReason ?? CONTAINER_EXITED_REASON;
      job.attempts.push({
        container: {
          exitCode,
          ...(signal ? { reason: `killed by ${signal}` } : {}),
          logStreamName: attempt.logFile,
        },
        ...(attempt.startedAt !== undefined ? { startedAt: attempt.startedAt } : {}),
        stoppedAt,
        statusReason,
      });
      const retryable = exitCode === RETRYABLE_EXIT_CODE || signal !== null;
      if (job.stopReason !== undefined) {
        this.finish(job, 'FAILED', job.stopReason);
      } else if (exitCode === 0) {
        this.finish(job, 'SUCCEEDED', CONTAINER_EXITED_REASON);
      } else if (retryable && job.attempts.length < this.maxAttempts && !this.closed) {
        job.state = 'waiting';
        this.waiting.push(job);
        this.emit(job, 'RUNNABLE');
      } else {
        this.finish(job, 'FAILED', CONTAINER_EXITED_REASON);
      }
    }
    this.dispatch();
    this.settle();
  }

  private finish(job: LocalJob, status: 'SUCCEEDED' | 'FAILED', statusReason: string): void {
    job.state = 'done';
    job.stoppedAt = this.now();
    this.jobs.delete(job.computeJobId);
    this.emit(job, status, statusReason);
    this.settle();
  }

  /** Queues the event behind the job's earlier ones; delivery never holds up anything else. */
  private emit(job: LocalJob, status: ComputeStatus, statusReason?: string): void {
    const event = this.eventFor(job, status, statusReason);
    this.pendingDeliveries += 1;
    job.delivered = job.delivered
      .then(() => this.deliver(event))
      .finally(() => {
        this.pendingDeliveries -= 1;
        this.settle();
      });
  }

  private async deliver(event: BatchJobStateChange): Promise<void> {
    for (let attempt = 0; ; attempt += 1) {
      try {
        await this.sink(event);
        return;
      } catch (error) {
        const delay = this.sinkRetryDelaysMs[attempt];
        if (delay === undefined) {
          this.log(
            `Local launcher: dropped the ${event.detail.status} event of compute job ${event.detail.jobId} after ${attempt + 1} failed deliveries`,
            error,
          );
          return;
        }
        await new Promise((resolveDelay) => setTimeout(resolveDelay, delay));
      }
    }
  }

  private eventFor(job: LocalJob, status: ComputeStatus, statusReason?: string): BatchJobStateChange {
    const jobArn = `arn:aws:batch:${REGION}:${ACCOUNT}:job/${job.computeJobId}`;
    const lastAttempt = job.attempts.at(-1);
    const ended = status === 'SUCCEEDED' || status === 'FAILED';
    return {
      version: '0',
      id: randomUUID(),
      'detail-type': 'Batch Job State Change',
      source: 'aws.batch',
      account: ACCOUNT,
      time: new Date(this.now()).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      region: REGION,
      resources: [jobArn],
      detail: {
        jobArn,
        jobName: job.jobName,
        jobId: job.computeJobId,
        jobQueue: QUEUE_ARN,
        status,
        ...(statusReason !== undefined ? { statusReason } : {}),
        attempts: structuredClone(job.attempts),
        createdAt: job.createdAt,
        ...(job.startedAt !== undefined ? { startedAt: job.startedAt } : {}),
        ...(ended && job.stoppedAt !== undefined ? { stoppedAt: job.stoppedAt } : {}),
        retryStrategy: batchRetryStrategy(this.maxAttempts),
        parameters: {},
        tags: computeTags(job.request),
        container: {
          environment: Object.values(TRAINER_ENV).map((name) => ({ name, value: job.env[name] ?? '' })),
          ...(ended && lastAttempt?.container?.exitCode !== undefined
            ? { exitCode: lastAttempt.container.exitCode }
            : {}),
          ...(ended && lastAttempt?.container?.reason !== undefined
            ? { reason: lastAttempt.container.reason }
            : {}),
          ...(ended && lastAttempt?.container?.logStreamName !== undefined
            ? { logStreamName: lastAttempt.container.logStreamName }
            : {}),
        },
      },
    };
  }

  private isIdle(): boolean {
    return this.waiting.length === 0 && this.active === 0 && this.pendingDeliveries === 0;
  }

  private settle(): void {
    if (!this.isIdle()) return;
    for (const resolveIdle of this.idleWaiters.splice(0)) resolveIdle();
  }

  /** Trainers must not outlive the process that started them, whichever way it exits normally. */
  private installExitHook(): void {
    if (this.exitHookInstalled) return;
    this.exitHookInstalled = true;
    process.on('exit', this.killOnExit);
  }
}

function requireString(value: unknown, option: string): string {
  if (typeof value !== 'string' || value === '') {
    throw new InvalidLauncherOptionsError(option, 'must be a non-empty string');
  }
  return value;
}

function integerIn(value: unknown, option: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new InvalidLauncherOptionsError(
      option,
      `must be an integer from ${min} to ${max}, not ${String(value)}`,
    );
  }
  return value;
}

function validEnv(env: unknown): Readonly<Record<string, string>> {
  if (typeof env !== 'object' || env === null) {
    throw new InvalidLauncherOptionsError('env', 'must be an object of strings');
  }
  for (const [name, value] of Object.entries(env)) {
    if (typeof value !== 'string') throw new InvalidLauncherOptionsError(`env.${name}`, 'must be a string');
  }
  for (const name of [TRAINER_ENV.table, TRAINER_ENV.bucket]) {
    if (!(env as Record<string, string>)[name]) {
      throw new InvalidLauncherOptionsError(`env.${name}`, 'must be set: the trainer contract requires it');
    }
  }
  const inherited: Record<string, string> = {};
  for (const name of INHERITED_ENV) {
    const value = process.env[name];
    if (value !== undefined) inherited[name] = value;
  }
  return Object.freeze({ ...inherited, ...(env as Record<string, string>) });
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

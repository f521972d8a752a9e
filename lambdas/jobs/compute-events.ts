import { SHUTDOWN_BEFORE_START_REASON, SHUTDOWN_REASON, type StoredJob } from '../../lib/adapters';
import { isId, TEAM_ID_PATTERN } from '../../lib/core/ids';
import {
  type BatchAttempt,
  type BatchJobStateChange,
  COMPUTE_TAGS,
  decideCompute,
  isTerminal,
  MAX_ATTEMPTS,
  TRAINER_ENV,
} from '../../lib/core/jobs';
import type { JobAttempt, JobEvent, JobStatus } from '../../lib/core/schemas';
import { fineTunedModelFromJob } from '../models/service';
import type { JobDeps } from './deps';
import { stopReason } from './launching';
import { afterChange, holdsSlot } from './settle';
import { changeJob } from './transitions';

/** Which job and launch a compute event belongs to: its tags, or the trainer env it was given. */
export function identify(
  event: BatchJobStateChange,
): { readonly team: string; readonly jobId: string; readonly launch: number } | undefined {
  const tags = event.detail.tags ?? {};
  const environment = Object.fromEntries(
    (event.detail.container?.environment ?? []).map(({ name, value }) => [name, value]),
  );
  const team = tags[COMPUTE_TAGS.team] ?? environment[TRAINER_ENV.team];
  const jobId = tags[COMPUTE_TAGS.jobId] ?? environment[TRAINER_ENV.jobId];
  const launch = Number(tags[COMPUTE_TAGS.launch] ?? environment[TRAINER_ENV.launch]);
  if (!team || !TEAM_ID_PATTERN.test(team) || !jobId || !isId('job', jobId)) return undefined;
  if (!Number.isInteger(launch) || launch < 1) return undefined;
  return { team, jobId, launch };
}

/** A job status a compute event moved a job from and to. */
export interface ComputeStatusChange {
  readonly from: JobStatus;
  readonly to: JobStatus;
}

/**
 * Moves a job as its compute reports, exactly once whatever order events come in: the
 * lifecycle's `decideCompute` judges the event against what the record has seen, and every
 * attempt the event lists is kept, even from an event too late to move the status.
 * `onStatusChange` hears of the move as soon as it is written, before the follow-up work that
 * may fail: a retried event finds the move made and does not report it again.
 */
export async function applyComputeEvent(
  deps: JobDeps,
  event: BatchJobStateChange,
  onStatusChange?: (change: ComputeStatusChange) => void,
): Promise<void> {
  const target = identify(event);
  if (!target) {
    deps.log('compute event for no Whetstone job', { computeJobId: event.detail.jobId });
    return;
  }
  const { team, jobId, launch } = target;
  const { detail } = event;
  const eventTime = Date.parse(event.time);
  // The model record goes in before the job reads `succeeded`, so a listed success always has
  // its model; if the job took another end meanwhile, the record is taken back below.
  const before = detail.status === 'SUCCEEDED' ? await deps.stores.jobs.get(team, jobId) : undefined;
  const success =
    before !== undefined &&
    launch === before.launch.number &&
    !isStray(before, launch, detail.jobId) &&
    !isTerminal(before.job.status);
  if (success) await deps.stores.models.putFineTuned(fineTunedModelOf(before, deps.now()));

  const outcome = await changeJob(deps, team, jobId, (current) => {
    // Another compute job claiming this launch (a repeated submit) is a stray: it moves nothing.
    if (isStray(current, launch, detail.jobId)) return undefined;
    const attempts = mergeAttempts(current.job.whetstone.attempts, launch, event, eventTime);
    const attemptsChanged = JSON.stringify(attempts) !== JSON.stringify(current.job.whetstone.attempts);
    const decision = decideCompute(
      {
        status: current.job.status,
        desired_status: current.job.whetstone.desired_status,
        launch: current.launch.number,
        progress: current.launch.progress,
      },
      { launch, status: detail.status, endedAttempts: detail.attempts.length },
    );
    if (decision.kind === 'ignore') {
      return attemptsChanged
        ? { next: { ...current, job: { ...current.job, whetstone: { ...current.job.whetstone, attempts } } } }
        : undefined;
    }
    const status = decision.status;
    const ends = status === 'paused' || isTerminal(status);
    const nowSeconds = Math.floor(deps.now() / 1000);
    const next: Omit<StoredJob, 'version'> = {
      ...current,
      launch: {
        ...current.launch,
        progress: decision.progress,
        state: ends ? 'ended' : current.launch.state,
        // An event that comes before submit returns names the compute job and its queue first.
        ...(current.launch.compute_job_id === null
          ? { compute_job_id: detail.jobId, compute_queue: detail.jobQueue }
          : {}),
      },
      job: {
        ...current.job,
        status,
        whetstone: { ...current.job.whetstone, attempts },
        ...(isTerminal(status) ? { finished_at: nowSeconds } : {}),
        ...(status === 'succeeded' ? { fine_tuned_model: current.model.fine_tuned_name, error: null } : {}),
        ...(status === 'failed' ? { error: current.job.error ?? failureOf(event) } : {}),
      },
    };
    return {
      next,
      ...(ends && holdsSlot(current.launch.state) ? { slot: 'release' as const } : {}),
      events: attemptEvents(current, status, event),
    };
  });
  if (!outcome) {
    deps.log('compute event for a job that does not exist', { team, jobId, computeJobId: detail.jobId });
    return;
  }
  if (outcome.kind === 'written' && outcome.before.job.status !== outcome.after.job.status) {
    onStatusChange?.({ from: outcome.before.job.status, to: outcome.after.job.status });
  }
  // Notifications and freed slots first: whatever fails after must not cost them.
  await afterChange(deps, outcome);
  const job = outcome.kind === 'written' ? outcome.after : outcome.job;
  if (success && job.job.status !== 'succeeded') {
    // Taken back only if, read afresh, the job did not succeed by another event meanwhile.
    const now = await deps.stores.jobs.get(team, jobId);
    if (now?.job.status !== 'succeeded')
      await deps.stores.models.deleteFineTuned(team, job.model.fine_tuned_name);
  }
  if (!isComputeEnd(detail.status) && computeUnwanted(job, launch, detail.jobId)) {
    await deps.launcher.terminate({ computeJobId: detail.jobId, queue: detail.jobQueue }, stopReason(job));
  }
}

function isComputeEnd(status: BatchJobStateChange['detail']['status']): boolean {
  return status === 'SUCCEEDED' || status === 'FAILED';
}

function isStray(job: StoredJob, launch: number, computeJobId: string): boolean {
  return (
    launch === job.launch.number &&
    job.launch.compute_job_id !== null &&
    job.launch.compute_job_id !== computeJobId
  );
}

/**
 * Compute still going that no job wants: a launch asked to stop (a retry may race the stop),
 * an older launch, a stray, or any launch of a job that has ended. Stopping twice is harmless.
 */
function computeUnwanted(job: StoredJob, launch: number, computeJobId: string): boolean {
  if (launch !== job.launch.number || isStray(job, launch, computeJobId)) return true;
  if (isTerminal(job.job.status) || job.job.status === 'paused') return true;
  return job.job.whetstone.desired_status !== 'running';
}

function fineTunedModelOf(job: StoredJob, now: number) {
  return fineTunedModelFromJob(
    {
      id: job.job.id,
      team: job.team,
      suffix: job.model.suffix,
      baseModel: job.model.base,
      architecture: job.model.architecture,
      trainingMethod: job.job.whetstone.options.training_method,
    },
    now,
  );
}

/**
 * Folds the event's attempts into the record. Batch lists the attempts that ended; the one
 * under way (RUNNING) is recorded as started, and completed when it is listed.
 */
export function mergeAttempts(
  recorded: readonly JobAttempt[],
  launch: number,
  event: BatchJobStateChange,
  eventTime: number,
): JobAttempt[] {
  const byKey = new Map(recorded.map((attempt) => [`${attempt.launch}#${attempt.attempt}`, attempt]));
  const { detail } = event;
  const seconds = (ms: number | undefined) => (ms === undefined ? null : Math.floor(ms / 1000));
  detail.attempts.forEach((ended, index) => {
    const key = `${launch}#${index + 1}`;
    const known = byKey.get(key);
    byKey.set(key, {
      launch,
      attempt: index + 1,
      compute_job_id: detail.jobId,
      started_at: seconds(ended.startedAt) ?? known?.started_at ?? null,
      stopped_at: seconds(ended.stoppedAt) ?? known?.stopped_at ?? null,
      exit_code: ended.container?.exitCode ?? known?.exit_code ?? null,
      reason: attemptReason(ended) ?? known?.reason ?? null,
      instance_type: known?.instance_type ?? null,
      market: known?.market ?? null,
      region: known?.region ?? null,
    });
  });
  if (detail.status === 'RUNNING') {
    const key = `${launch}#${detail.attempts.length + 1}`;
    if (!byKey.has(key)) {
      byKey.set(key, {
        launch,
        attempt: detail.attempts.length + 1,
        compute_job_id: detail.jobId,
        started_at: seconds(Number.isNaN(eventTime) ? undefined : eventTime),
        stopped_at: null,
        exit_code: null,
        reason: null,
        instance_type: null,
        market: null,
        region: null,
      });
    }
  }
  return [...byKey.values()].sort((a, b) => a.launch - b.launch || a.attempt - b.attempt);
}

/** Batch's reason for an attempt's end, with the container's own when it says more. */
function attemptReason(attempt: BatchAttempt): string | undefined {
  const status = attempt.statusReason;
  const container = attempt.container?.reason;
  if (status && container && status !== container) return `${status}: ${container}`;
  return status ?? container;
}

/** The job's `error` when the compute failed and the trainer said nothing. */
export function failureOf(event: BatchJobStateChange): { code: string; message: string; param: null } {
  const { detail } = event;
  const last = detail.attempts.at(-1);
  const reason = (last ? attemptReason(last) : undefined) ?? detail.statusReason ?? 'no reason given';
  // Batch's own reason names the cause; the container's may be appended to `reason`.
  const cause = last?.statusReason ?? detail.statusReason ?? reason;
  const exitCode = last?.container?.exitCode;
  const attempts = detail.attempts.length;
  if (/^Host EC2/.test(cause)) {
    return {
      code: 'compute_interrupted',
      message: `The instance running the job went away on each of its ${attempts} attempts (${reason}); no attempts are left.`,
      param: null,
    };
  }
  if (cause === SHUTDOWN_REASON || cause === SHUTDOWN_BEFORE_START_REASON) {
    return {
      code: 'platform_stopped',
      message: `${cause}; the job did not finish. Create it again to train.`,
      param: null,
    };
  }
  if (/duration exceeded timeout/i.test(cause)) {
    return {
      code: 'timeout',
      message: `The job's attempt ran longer than its limit (whetstone.max_runtime_minutes) and was stopped.`,
      param: null,
    };
  }
  if (attempts === 0) {
    return {
      code: 'compute_failed',
      message: `The compute could not start the job: ${reason}.`,
      param: null,
    };
  }
  const exit = exitCode === undefined ? 'without an exit code' : `with exit code ${exitCode}`;
  const retried =
    exitCode === 143 && attempts >= MAX_ATTEMPTS ? ` after ${attempts} interrupted attempts` : '';
  return {
    code: 'training_failed',
    message: `The trainer stopped ${exit}${retried} (${reason}) without reporting an error. Its log is in the attempt's log stream.`,
    param: null,
  };
}

function attemptEvents(
  current: StoredJob,
  status: StoredJob['job']['status'],
  event: BatchJobStateChange,
): Omit<JobEvent, 'id' | 'object' | 'created_at'>[] {
  const { detail } = event;
  const ended = detail.attempts.at(-1);
  if (current.job.status === 'running' && status === 'queued' && ended) {
    return [
      {
        level: 'warn',
        message: `Attempt ${detail.attempts.length} ended (${attemptReason(ended) ?? 'no reason given'}); retrying from the newest checkpoint.`,
        type: 'message',
        data: { attempt: detail.attempts.length, exit_code: ended.container?.exitCode ?? null },
      },
    ];
  }
  return [];
}

import type { StoredJob } from '../../lib/adapters';
import { newId } from '../../lib/core/ids';
import { canTransition } from '../../lib/core/jobs';
import type { JobEvent, JobStatus } from '../../lib/core/schemas';
import type { JobDeps } from './deps';

/** A job's new record, and what the write does to the team's running-job slots. */
export interface JobChange {
  readonly next: StoredJob;
  readonly slot?: 'acquire' | 'release';
  /** Events to append once the write has landed. */
  readonly events?: readonly Omit<JobEvent, 'id' | 'object' | 'created_at'>[];
}

export type ChangeOutcome =
  | { readonly kind: 'written'; readonly before: StoredJob; readonly after: StoredJob }
  | { readonly kind: 'unchanged'; readonly job: StoredJob }
  | { readonly kind: 'full'; readonly job: StoredJob };

const MAX_TRIES = 20;

/**
 * Read, decide, write conditionally on the version read; on a lost race read again and decide
 * again. `decide` is pure over the record it is given and returns `undefined` to leave it be.
 * Every status change is checked against the lifecycle table and leaves an event.
 */
export async function changeJob(
  deps: JobDeps,
  team: string,
  jobId: string,
  decide: (
    current: StoredJob,
  ) => (Omit<JobChange, 'next'> & { readonly next: Omit<StoredJob, 'version'> }) | undefined,
): Promise<ChangeOutcome | undefined> {
  for (let tries = 0; tries < MAX_TRIES; tries++) {
    const current = await deps.stores.jobs.get(team, jobId);
    if (!current) return undefined;
    const change = decide(current);
    if (!change) return { kind: 'unchanged', job: current };
    const next: StoredJob = { ...change.next, version: current.version + 1 };
    const from = current.job.status;
    const to = next.job.status;
    if (from !== to && !canTransition(from, to)) {
      throw new Error(`job ${jobId}: ${from} -> ${to} is not a lifecycle transition`);
    }
    const result = await deps.stores.jobs.replace(
      next,
      change.slot ? { change: change.slot, limit: deps.settings.maxRunningJobsPerTeam } : undefined,
    );
    if (result === 'changed') {
      await backoff(tries);
      continue;
    }
    if (result === 'full') return { kind: 'full', job: current };
    const events = [...(from !== to ? [statusEvent(from, to, next)] : []), ...(change.events ?? [])];
    // The change has landed; failing now would only invite a retry that finds nothing to do.
    try {
      await appendEvents(deps, team, jobId, events);
    } catch (error) {
      deps.log('job events not recorded', { team, jobId, status: to, error: String(error) });
    }
    return { kind: 'written', before: current, after: next };
  }
  throw new Error(`job ${jobId}: gave up after ${MAX_TRIES} conflicting writes`);
}

/** Spreads writers that keep meeting on one record (the job, or the team's slot counter) apart. */
function backoff(tries: number): Promise<void> {
  const ceiling = Math.min(1000, 10 * 2 ** tries);
  return new Promise((resolve) => setTimeout(resolve, Math.random() * ceiling));
}

export async function appendEvents(
  deps: JobDeps,
  team: string,
  jobId: string,
  events: readonly Omit<JobEvent, 'id' | 'object' | 'created_at'>[],
): Promise<void> {
  for (const event of events) {
    const now = deps.now();
    await deps.stores.jobEvents.append(team, jobId, {
      id: newId('event', now),
      object: 'fine_tuning.job.event',
      created_at: Math.floor(now / 1000),
      ...event,
    });
  }
}

const STATUS_MESSAGES: Partial<Record<JobStatus, (job: StoredJob) => string>> = {
  queued: () => 'Job queued.',
  running: () => 'Fine-tuning job started.',
  paused: () => 'Job paused; resume continues from the newest checkpoint.',
  succeeded: (job) => `The job has successfully completed. New fine-tuned model: ${job.job.fine_tuned_model}`,
  failed: (job) => `The job failed: ${job.job.error?.message ?? 'no reason was given'}`,
  cancelled: () => 'The job was cancelled.',
};

function statusEvent(
  from: JobStatus,
  to: JobStatus,
  job: StoredJob,
): Omit<JobEvent, 'id' | 'object' | 'created_at'> {
  return {
    level: to === 'failed' ? 'error' : 'info',
    message: STATUS_MESSAGES[to]?.(job) ?? `Status changed to ${to}.`,
    type: 'message',
    data: { status: to, previous_status: from },
  };
}

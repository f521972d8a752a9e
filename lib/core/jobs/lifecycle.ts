import type { JobStatus } from '../schemas/jobs';

/**
 * The job lifecycle (DESIGN.md, "Job lifecycle") as data. Every write of a job's status is one
 * of these edges, made with a DynamoDB condition on the status and version it was decided from.
 *
 *   validating_files -> queued -> running -> succeeded | failed | cancelled
 *                                 running -> paused -> queued (resume)
 *
 * `queued -> succeeded | failed | paused` and `running -> queued` exist because compute events
 * may skip a state (a lost RUNNING) or start a new attempt after an interruption.
 */
export const TRANSITIONS: Readonly<Record<JobStatus, readonly JobStatus[]>> = {
  validating_files: ['queued', 'failed', 'cancelled'],
  queued: ['running', 'paused', 'succeeded', 'failed', 'cancelled'],
  running: ['queued', 'paused', 'succeeded', 'failed', 'cancelled'],
  paused: ['queued', 'cancelled'],
  succeeded: [],
  failed: [],
  cancelled: [],
};

export const TERMINAL_STATUSES: readonly JobStatus[] = ['succeeded', 'failed', 'cancelled'];

export function canTransition(from: JobStatus, to: JobStatus): boolean {
  return TRANSITIONS[from].includes(to);
}

export function isTerminal(status: JobStatus): boolean {
  return TERMINAL_STATUSES.includes(status);
}

/**
 * Stop intent, written by cancel, pause or the cost cap before the compute is stopped. Whoever
 * sees an attempt end reads it: `running` means the attempt was interrupted and is retried.
 */
export const DESIRED_STATUSES = ['running', 'paused', 'cancelled'] as const;
export type DesiredStatus = (typeof DESIRED_STATUSES)[number];

/** AWS Batch job states, as "Batch Job State Change" events carry them. */
export const COMPUTE_STATUSES = [
  'SUBMITTED',
  'PENDING',
  'RUNNABLE',
  'STARTING',
  'RUNNING',
  'SUCCEEDED',
  'FAILED',
] as const;
export type ComputeStatus = (typeof COMPUTE_STATUSES)[number];

const PHASE: Readonly<Record<ComputeStatus, number>> = {
  SUBMITTED: 0,
  PENDING: 1,
  RUNNABLE: 2,
  STARTING: 3,
  RUNNING: 4,
  SUCCEEDED: 5,
  FAILED: 5,
};

/**
 * How far one launch of a job has got, as a total order over its compute events: attempts in
 * order, and within an attempt the phases in order. An event that is not later than the
 * progress already recorded is a duplicate or arrived late, and moves nothing.
 */
export interface ComputeProgress {
  /** Zero-based attempt within the launch. */
  readonly attempt: number;
  readonly phase: number;
}

/**
 * A Batch event lists the attempts that have ended. Before the job ends, the attempt under way
 * is the next one. A SUCCEEDED or FAILED event ends the launch, so it comes after every other
 * event of it, even a retry's RUNNABLE when the job was stopped between attempts: it counts as
 * one past the attempts it lists.
 */
export function progressOf(status: ComputeStatus, endedAttempts: number): ComputeProgress {
  return { attempt: endedAttempts, phase: PHASE[status] };
}

export function isLater(candidate: ComputeProgress, recorded: ComputeProgress | null): boolean {
  if (recorded === null) return true;
  return (
    candidate.attempt > recorded.attempt ||
    (candidate.attempt === recorded.attempt && candidate.phase > recorded.phase)
  );
}

/** The status a job takes when its compute reports `status` (DESIGN.md's mapping of Batch states). */
export function statusForCompute(status: ComputeStatus, desired: DesiredStatus): JobStatus {
  switch (status) {
    case 'SUBMITTED':
    case 'PENDING':
    case 'RUNNABLE':
    case 'STARTING':
      return 'queued';
    case 'RUNNING':
      return 'running';
    case 'SUCCEEDED':
      return 'succeeded';
    case 'FAILED':
      return desired === 'cancelled' ? 'cancelled' : desired === 'paused' ? 'paused' : 'failed';
  }
}

/** The part of a job record a compute event is judged against. */
export interface LifecycleState {
  readonly status: JobStatus;
  readonly desired_status: DesiredStatus;
  /** The launch whose compute drives the status now; 0 before the first launch. */
  readonly launch: number;
  readonly progress: ComputeProgress | null;
}

export interface ComputeObservation {
  readonly launch: number;
  readonly status: ComputeStatus;
  readonly endedAttempts: number;
}

export type ComputeDecision =
  | { readonly kind: 'apply'; readonly status: JobStatus; readonly progress: ComputeProgress }
  | {
      readonly kind: 'ignore';
      /** `other_launch`: from a launch the job has moved past; `stale`: duplicate or late; `forbidden`: no such edge. */
      readonly reason: 'other_launch' | 'stale' | 'forbidden';
    };

/**
 * Judges one compute event. Only the job's current launch moves its status, only forward, and
 * only along the table's edges; anything else is ignored (its attempt details are still kept).
 */
export function decideCompute(state: LifecycleState, observation: ComputeObservation): ComputeDecision {
  if (observation.launch !== state.launch) return { kind: 'ignore', reason: 'other_launch' };
  const progress = progressOf(observation.status, observation.endedAttempts);
  if (!isLater(progress, state.progress)) return { kind: 'ignore', reason: 'stale' };
  const status = statusForCompute(observation.status, state.desired_status);
  if (status !== state.status && !canTransition(state.status, status)) {
    return { kind: 'ignore', reason: 'forbidden' };
  }
  return { kind: 'apply', status, progress };
}

export type ControlAction = 'cancel' | 'pause' | 'resume';

export type ControlDecision =
  | {
      readonly kind: 'apply';
      readonly desired: DesiredStatus;
      /** The status to take at once, when no compute has to stop first. */
      readonly status?: JobStatus;
      /** Stop the running launch; its end event then settles the status. */
      readonly stopCompute: boolean;
      /** Launch again, from the newest checkpoint. */
      readonly relaunch: boolean;
    }
  | { readonly kind: 'unchanged' }
  | { readonly kind: 'refuse'; readonly code: string; readonly message: string };

export interface ControlState {
  readonly id: string;
  readonly status: JobStatus;
  readonly desired_status: DesiredStatus;
  /** Whether compute has been asked for (the launch is submitted, not waiting for a slot). */
  readonly computeRequested: boolean;
}

/** What cancel, pause and resume do in each state. */
export function decideControl(state: ControlState, action: ControlAction): ControlDecision {
  const { id, status, desired_status: desired } = state;
  if (isTerminal(status)) {
    return {
      kind: 'refuse',
      code: 'job_finished',
      message: `Job ${id} has already ${status === 'cancelled' ? 'been cancelled' : status}; a finished job cannot be ${pastTense(action)}.`,
    };
  }
  switch (action) {
    case 'cancel':
      if (desired === 'cancelled') return { kind: 'unchanged' };
      if (status === 'paused' || status === 'validating_files' || !state.computeRequested) {
        return {
          kind: 'apply',
          desired: 'cancelled',
          status: 'cancelled',
          stopCompute: false,
          relaunch: false,
        };
      }
      return { kind: 'apply', desired: 'cancelled', stopCompute: true, relaunch: false };
    case 'pause':
      if (status === 'running' && desired === 'paused') return { kind: 'unchanged' };
      if (status === 'running' && desired === 'running') {
        return { kind: 'apply', desired: 'paused', stopCompute: true, relaunch: false };
      }
      return {
        kind: 'refuse',
        code: 'job_not_running',
        message:
          desired === 'cancelled'
            ? `Job ${id} is being cancelled; it cannot be paused.`
            : `Only a running job can be paused; job ${id} is ${status}.`,
      };
    case 'resume':
      if (status === 'paused') {
        return { kind: 'apply', desired: 'running', status: 'queued', stopCompute: false, relaunch: true };
      }
      return {
        kind: 'refuse',
        code: 'job_not_paused',
        message: `Only a paused job can be resumed; job ${id} is ${status}${desired === 'paused' ? ' (pausing)' : ''}.`,
      };
  }
}

function pastTense(action: ControlAction): string {
  return action === 'cancel' ? 'cancelled' : action === 'pause' ? 'paused' : 'resumed';
}

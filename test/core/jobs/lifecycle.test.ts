import { describe, expect, it } from 'vitest';
import {
  COMPUTE_STATUSES,
  canTransition,
  type DesiredStatus,
  decideCompute,
  decideControl,
  statusForCompute,
} from '../../../lib/core/jobs';
import { JOB_STATUSES, type JobStatus } from '../../../lib/core/schemas';

/** Every edge the lifecycle allows, written out by hand: every other pair must be refused. */
const ALLOWED = new Set([
  'validating_files>queued',
  'validating_files>failed',
  'validating_files>cancelled',
  'queued>running',
  'queued>paused',
  'queued>succeeded',
  'queued>failed',
  'queued>cancelled',
  'running>queued',
  'running>paused',
  'running>succeeded',
  'running>failed',
  'running>cancelled',
  'paused>queued',
  'paused>cancelled',
]);

describe('lifecycle transitions', () => {
  it.each(JOB_STATUSES.flatMap((from) => JOB_STATUSES.map((to) => [from, to] as const)))(
    '%s -> %s is allowed exactly when the design says so',
    (from, to) => {
      // Act
      const allowed = canTransition(from, to);

      // Assess
      expect(allowed).toBe(ALLOWED.has(`${from}>${to}`));
    },
  );

  it('maps Batch states as DESIGN.md says, FAILED by the stop intent', () => {
    // Act
    const mapped = Object.fromEntries(
      COMPUTE_STATUSES.map((status) => [status, statusForCompute(status, 'running')]),
    );
    const failedBy = (['running', 'paused', 'cancelled'] as DesiredStatus[]).map((desired) =>
      statusForCompute('FAILED', desired),
    );

    // Assess
    expect(mapped).toEqual({
      SUBMITTED: 'queued',
      PENDING: 'queued',
      RUNNABLE: 'queued',
      STARTING: 'queued',
      RUNNING: 'running',
      SUCCEEDED: 'succeeded',
      FAILED: 'failed',
    });
    expect(failedBy).toEqual(['failed', 'paused', 'cancelled']);
  });
});

describe('decideCompute', () => {
  const running = {
    status: 'running' as JobStatus,
    desired_status: 'running' as DesiredStatus,
    launch: 2,
    progress: { attempt: 0, phase: 4 },
  };

  it('ignores another launch, a duplicate and a late event, and applies a later one', () => {
    // Act
    const otherLaunch = decideCompute(running, { launch: 1, status: 'SUCCEEDED', endedAttempts: 1 });
    const duplicate = decideCompute(running, { launch: 2, status: 'RUNNING', endedAttempts: 0 });
    const late = decideCompute(running, { launch: 2, status: 'STARTING', endedAttempts: 0 });
    const retry = decideCompute(running, { launch: 2, status: 'RUNNABLE', endedAttempts: 1 });
    const end = decideCompute(running, { launch: 2, status: 'FAILED', endedAttempts: 1 });

    // Assess
    expect(otherLaunch).toEqual({ kind: 'ignore', reason: 'other_launch' });
    expect(duplicate).toEqual({ kind: 'ignore', reason: 'stale' });
    expect(late).toEqual({ kind: 'ignore', reason: 'stale' });
    expect(retry).toEqual({ kind: 'apply', status: 'queued', progress: { attempt: 1, phase: 2 } });
    expect(end).toEqual({ kind: 'apply', status: 'failed', progress: { attempt: 1, phase: 5 } });
  });

  it('ends a launch stopped between attempts, after the retry it had announced', () => {
    // Act
    const stopped = decideCompute(
      { status: 'queued', desired_status: 'cancelled', launch: 2, progress: { attempt: 1, phase: 2 } },
      { launch: 2, status: 'FAILED', endedAttempts: 1 },
    );

    // Assess
    expect(stopped).toEqual({ kind: 'apply', status: 'cancelled', progress: { attempt: 1, phase: 5 } });
  });

  it('never moves a finished job', () => {
    // Act
    const decision = decideCompute(
      { status: 'cancelled', desired_status: 'cancelled', launch: 1, progress: null },
      { launch: 1, status: 'RUNNING', endedAttempts: 0 },
    );

    // Assess
    expect(decision).toEqual({ kind: 'ignore', reason: 'forbidden' });
  });
});

describe('decideControl', () => {
  const state = (status: JobStatus, desired: DesiredStatus = 'running', computeRequested = true) => ({
    id: 'ftjob-1',
    status,
    desired_status: desired,
    computeRequested,
  });

  it.each([
    [
      'validating_files',
      'running',
      false,
      { kind: 'apply', desired: 'cancelled', status: 'cancelled', stopCompute: false, relaunch: false },
    ],
    [
      'queued',
      'running',
      false,
      { kind: 'apply', desired: 'cancelled', status: 'cancelled', stopCompute: false, relaunch: false },
    ],
    ['queued', 'running', true, { kind: 'apply', desired: 'cancelled', stopCompute: true, relaunch: false }],
    ['running', 'running', true, { kind: 'apply', desired: 'cancelled', stopCompute: true, relaunch: false }],
    ['running', 'paused', true, { kind: 'apply', desired: 'cancelled', stopCompute: true, relaunch: false }],
    ['running', 'cancelled', true, { kind: 'unchanged' }],
    [
      'paused',
      'paused',
      false,
      { kind: 'apply', desired: 'cancelled', status: 'cancelled', stopCompute: false, relaunch: false },
    ],
    [
      'succeeded',
      'running',
      false,
      {
        kind: 'refuse',
        code: 'job_finished',
        message: 'Job ftjob-1 has already succeeded; a finished job cannot be cancelled.',
      },
    ],
    [
      'cancelled',
      'cancelled',
      false,
      {
        kind: 'refuse',
        code: 'job_finished',
        message: 'Job ftjob-1 has already been cancelled; a finished job cannot be cancelled.',
      },
    ],
  ] as const)(
    'cancel of a %s job (desired %s, compute requested %s)',
    (status, desired, computeRequested, expected) => {
      // Act
      const decision = decideControl(state(status, desired, computeRequested), 'cancel');

      // Assess
      expect(decision).toEqual(expected);
    },
  );

  it.each([
    ['running', 'running', { kind: 'apply', desired: 'paused', stopCompute: true, relaunch: false }],
    ['running', 'paused', { kind: 'unchanged' }],
    [
      'running',
      'cancelled',
      {
        kind: 'refuse',
        code: 'job_not_running',
        message: 'Job ftjob-1 is being cancelled; it cannot be paused.',
      },
    ],
    [
      'queued',
      'running',
      {
        kind: 'refuse',
        code: 'job_not_running',
        message: 'Only a running job can be paused; job ftjob-1 is queued.',
      },
    ],
    [
      'paused',
      'paused',
      {
        kind: 'refuse',
        code: 'job_not_running',
        message: 'Only a running job can be paused; job ftjob-1 is paused.',
      },
    ],
    [
      'failed',
      'running',
      {
        kind: 'refuse',
        code: 'job_finished',
        message: 'Job ftjob-1 has already failed; a finished job cannot be paused.',
      },
    ],
  ] as const)('pause of a %s job (desired %s)', (status, desired, expected) => {
    // Act
    const decision = decideControl(state(status, desired), 'pause');

    // Assess
    expect(decision).toEqual(expected);
  });

  it.each([
    [
      'paused',
      'paused',
      { kind: 'apply', desired: 'running', status: 'queued', stopCompute: false, relaunch: true },
    ],
    [
      'running',
      'paused',
      {
        kind: 'refuse',
        code: 'job_not_paused',
        message: 'Only a paused job can be resumed; job ftjob-1 is running (pausing).',
      },
    ],
    [
      'queued',
      'running',
      {
        kind: 'refuse',
        code: 'job_not_paused',
        message: 'Only a paused job can be resumed; job ftjob-1 is queued.',
      },
    ],
    [
      'succeeded',
      'running',
      {
        kind: 'refuse',
        code: 'job_finished',
        message: 'Job ftjob-1 has already succeeded; a finished job cannot be resumed.',
      },
    ],
  ] as const)('resume of a %s job (desired %s)', (status, desired, expected) => {
    // Act
    const decision = decideControl(state(status, desired), 'resume');

    // Assess
    expect(decision).toEqual(expected);
  });
});

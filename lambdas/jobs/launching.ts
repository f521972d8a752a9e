import { LauncherClosedError, type StoredJob } from '../../lib/adapters';
import { s3Uri } from '../../lib/core/jobs';
import { objectKeys } from '../../lib/core/storage';
import type { JobDeps } from './deps';
import { afterChange } from './settle';
import { changeJob } from './transitions';

/**
 * Asks the compute to run a queued job that waits for one of its team's running-job slots.
 * With every slot taken it keeps waiting; a slot freed later launches it (`launchWaiting`).
 */
export async function tryLaunch(
  deps: JobDeps,
  team: string,
  jobId: string,
): Promise<'launched' | 'waiting' | 'not_waiting'> {
  const take = () =>
    changeJob(deps, team, jobId, (current) =>
      isWaiting(current)
        ? { next: { ...current, launch: { ...current.launch, state: 'submitting' } }, slot: 'acquire' }
        : undefined,
    );
  let taken = await take();
  // A slot freed just after this job found none may have missed it in the (eventually
  // consistent) waiting index: a consistent look at the count catches that release.
  if (
    taken?.kind === 'full' &&
    (await deps.stores.jobs.slotsInUse(team)) < deps.settings.maxRunningJobsPerTeam
  ) {
    taken = await take();
  }
  if (!taken || taken.kind === 'unchanged') return 'not_waiting';
  if (taken.kind === 'full') return 'waiting';
  const job = taken.after;
  const launch = job.launch.number;
  let computeJobId: string;
  let queue: string;
  try {
    ({ computeJobId, queue } = await deps.launcher.submit({
      team,
      jobId,
      launch,
      specUri: s3Uri(deps.settings.bucketName, objectKeys.jobSpec(team, jobId)),
      gpuType: job.job.whetstone.options.gpu_type,
      market: job.job.whetstone.options.market,
      attemptTimeoutSeconds: job.job.whetstone.options.max_runtime_minutes * 60,
    }));
  } catch (error) {
    if (error instanceof LauncherClosedError) {
      // The compute takes no work now (the local platform is stopping): the job waits on.
      await changeJob(deps, team, jobId, (current) =>
        current.launch.number === launch && current.launch.state === 'submitting'
          ? { next: { ...current, launch: { ...current.launch, state: 'waiting' } }, slot: 'release' }
          : undefined,
      );
      return 'waiting';
    }
    deps.log('launch failed', { team, jobId, launch, error: String(error) });
    const failed = await changeJob(deps, team, jobId, (current) => {
      if (current.launch.number !== launch || current.launch.state !== 'submitting') return undefined;
      const cancelled = current.job.whetstone.desired_status === 'cancelled';
      return {
        next: {
          ...current,
          launch: { ...current.launch, state: 'ended' },
          job: {
            ...current.job,
            status: cancelled ? 'cancelled' : 'failed',
            finished_at: Math.floor(deps.now() / 1000),
            error: cancelled
              ? null
              : {
                  code: 'launch_failed',
                  message: `The job could not be handed to the compute: ${error instanceof Error ? error.message : String(error)}`,
                  param: null,
                },
          },
        },
        slot: 'release',
      };
    });
    if (failed) await afterChange(deps, failed);
    return 'launched';
  }
  // The compute's first event may have come (and named the compute job) before submit returned.
  const recorded = await changeJob(deps, team, jobId, (current) =>
    current.launch.number === launch && current.launch.state === 'submitting'
      ? {
          next: {
            ...current,
            launch: {
              ...current.launch,
              state: 'submitted',
              compute_job_id: current.launch.compute_job_id ?? computeJobId,
              compute_queue: current.launch.compute_queue ?? queue,
            },
          },
          events: [
            {
              level: 'info',
              message: `Launch ${launch} submitted to queue ${queue} as ${computeJobId}.`,
              type: 'message',
              data: { launch, queue, compute_job_id: computeJobId },
            },
          ],
        }
      : undefined,
  );
  // A cancel or pause that came while the launch was being submitted had no compute to stop yet.
  const now =
    recorded?.kind === 'written' ? recorded.after : recorded?.kind === 'unchanged' ? recorded.job : undefined;
  if (now && now.job.whetstone.desired_status !== 'running' && now.launch.state !== 'ended') {
    await deps.launcher.terminate(
      {
        computeJobId: now.launch.compute_job_id ?? computeJobId,
        queue: now.launch.compute_queue ?? queue,
      },
      stopReason(now),
    );
  }
  return 'launched';
}

const MAX_WAITING_PASSES = 10;

/**
 * Launches the team's waiting jobs, oldest first, while slots are free. The waiting index is
 * read eventually consistently, so it may still list jobs that have left it: a pass that
 * launches nothing ends the work.
 */
export async function launchWaiting(deps: JobDeps, team: string): Promise<void> {
  for (let pass = 0; pass < MAX_WAITING_PASSES; pass++) {
    let launched = false;
    for (const jobId of await deps.stores.jobs.waiting(team, 10)) {
      const result = await tryLaunch(deps, team, jobId);
      if (result === 'waiting') return;
      launched ||= result === 'launched';
    }
    if (!launched) return;
  }
}

export function stopReason(job: StoredJob): string {
  switch (job.job.whetstone.desired_status) {
    case 'paused':
      return `Paused at the user's request (${job.job.id})`;
    case 'cancelled':
      return `Cancelled at the user's request (${job.job.id})`;
    case 'running':
      return `No longer wanted by ${job.job.id}: a superseded launch or a repeated submission`;
  }
}

function isWaiting(job: StoredJob): boolean {
  return (
    job.job.status === 'queued' &&
    job.launch.state === 'waiting' &&
    job.job.whetstone.desired_status === 'running'
  );
}

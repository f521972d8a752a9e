import type { StoredJob } from '../../lib/adapters';
import { isTerminal } from '../../lib/core/jobs';
import type { JobLaunch } from '../../lib/core/schemas';
import type { JobDeps } from './deps';
import { launchWaiting } from './launching';
import type { ChangeOutcome } from './transitions';

export function holdsSlot(state: JobLaunch['state']): boolean {
  return state === 'submitting' || state === 'submitted';
}

/**
 * What follows a written change: the team hears of pauses and endings, and a freed slot goes to
 * the oldest waiting job. Neither may undo the change, so their failures are logged, not thrown.
 */
export async function afterChange(deps: JobDeps, outcome: ChangeOutcome): Promise<void> {
  if (outcome.kind !== 'written') return;
  const { before, after } = outcome;
  const status = after.job.status;
  if (status !== before.job.status && (status === 'paused' || isTerminal(status))) {
    await attempt(deps, 'notification failed', after, () =>
      deps.notify(after.team, { id: after.job.id, status }, deps.now()),
    );
  }
  if (holdsSlot(before.launch.state) && !holdsSlot(after.launch.state)) {
    await attempt(deps, 'launching waiting jobs failed', after, () => launchWaiting(deps, after.team));
  }
}

async function attempt(
  deps: JobDeps,
  message: string,
  job: StoredJob,
  work: () => Promise<void>,
): Promise<void> {
  try {
    await work();
  } catch (error) {
    deps.log(message, { team: job.team, jobId: job.job.id, error: String(error) });
  }
}

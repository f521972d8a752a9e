import { WhetstoneApiError, type WhetstoneClient, WhetstoneConnectionError } from '../../client';
import type { FineTuningJob, JobEvent, JobStatus } from '../../core/schemas';
import { describeStatus, eventLine } from './job-output';

export interface WaitOptions {
  /** Seconds before giving up; none: wait as long as it takes. */
  readonly timeout?: number;
  /** Seconds between looks. */
  readonly interval: number;
  /** Print no events (the caller prints the job as JSON at the end). */
  readonly json?: boolean;
}

/** Where `whet jobs wait` stops: the job will not change again unless someone acts on it. */
const WAIT_ENDS: readonly JobStatus[] = ['succeeded', 'failed', 'cancelled', 'paused'];
/** Failed polls in a row that `wait` rides out (a restarting gateway, throttling) before giving up. */
const WAIT_RETRIES = 5;
/** The status lands before its event is appended; how often `wait` looks again for that event. */
const STATUS_EVENT_LOOKS = 10;
const STATUS_EVENT_PAUSE_MS = 200;

/**
 * Polls the job and prints each event not printed yet, oldest first. The first look prints at
 * most the newest page of history; later looks read back until they reach an event already shown.
 */
export async function waitForJobEnd(
  client: WhetstoneClient,
  jobId: string,
  options: WaitOptions,
): Promise<FineTuningJob> {
  const deadline =
    options.timeout === undefined ? Number.POSITIVE_INFINITY : Date.now() + options.timeout * 1000;
  const shown = new Set<string>();
  const statusesShown = new Set<unknown>();
  const showNewEvents = async () => {
    for (const event of await retried(() => unseenEvents(client, jobId, shown))) {
      shown.add(event.id);
      statusesShown.add(event.data?.status);
      console.log(eventLine(event));
    }
  };
  for (;;) {
    const job = await retried(() => client.fineTuning.jobs.retrieve(jobId));
    const ended = WAIT_ENDS.includes(job.status);
    if (!options.json) {
      await showNewEvents();
      for (let look = 1; ended && !statusesShown.has(job.status) && look < STATUS_EVENT_LOOKS; look++) {
        await sleep(STATUS_EVENT_PAUSE_MS);
        await showNewEvents();
      }
    }
    if (ended) return job;
    const left = deadline - Date.now();
    if (left <= 0) {
      throw new Error(
        `Job ${jobId} is still ${describeStatus(job)} after ${options.timeout} s; it goes on without the wait.`,
      );
    }
    await sleep(Math.min(options.interval * 1000, left));
  }
}

/** Newest first from the API; returned oldest first. */
async function unseenEvents(
  client: WhetstoneClient,
  jobId: string,
  shown: ReadonlySet<string>,
): Promise<JobEvent[]> {
  const unseen: JobEvent[] = [];
  let after: string | undefined;
  for (;;) {
    const page = await client.fineTuning.jobs.listEvents(jobId, { limit: 100, after });
    const fresh = page.data.filter((event) => !shown.has(event.id));
    unseen.push(...fresh);
    const reachedShown = fresh.length < page.data.length;
    if (shown.size === 0 || reachedShown || !page.has_more || page.last_id === null) break;
    after = page.last_id;
  }
  return unseen.reverse();
}

/** Rides out a gateway that is restarting or throttling; any other failure ends the wait at once. */
async function retried<T>(look: () => Promise<T>): Promise<T> {
  for (let failures = 1; ; failures++) {
    try {
      return await look();
    } catch (error) {
      const transient =
        error instanceof WhetstoneConnectionError ||
        (error instanceof WhetstoneApiError && (error.status === 429 || error.status >= 500));
      if (!transient || failures >= WAIT_RETRIES) throw error;
      await sleep(Math.min(1000 * 2 ** (failures - 1), 10_000));
    }
  }
}

function sleep(milliseconds: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, milliseconds));
}

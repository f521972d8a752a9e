import type { FineTuningJob } from '../../lib/core/schemas';
import { registerTinyModel } from './models';
import { chatDataset, fileForm, type TestPlatform } from './platform';

export const JSON_HEADERS = { 'Content-Type': 'application/json' };

/** What the test trainer does, per attempt when a list (see test/helpers/trainer/test-trainer.ts). */
export type TrainerBehaviour =
  | { mode: 'succeed' | 'run'; runMs?: number }
  | { mode: 'fail' | 'exit'; exitCode?: number; runMs?: number };

/** The test trainer reads its behaviour from the job's metadata, so a test sets it at create. */
export function trainerMetadata(behaviour: TrainerBehaviour | TrainerBehaviour[]): Record<string, string> {
  return { test_trainer: JSON.stringify(behaviour) };
}

/** Uploads a valid training file for the key's team and returns its id. */
export async function uploadTrainingFile(platform: TestPlatform, key: string, rows = 10): Promise<string> {
  const response = await platform.call(key, 'POST', '/v1/files', { body: fileForm(chatDataset(rows)) });
  if (response.status !== 200) throw new Error(`upload: ${response.status} ${await response.text()}`);
  return ((await response.json()) as { id: string }).id;
}

let registered: Promise<unknown> | undefined;
/** The tiny test model, registered once per platform (one platform per test file). */
export function ensureTinyModel(platform: TestPlatform): Promise<unknown> {
  registered ??= registerTinyModel(platform);
  return registered;
}

export async function createJob(
  platform: TestPlatform,
  key: string,
  body: Record<string, unknown>,
  headers: Record<string, string> = {},
): Promise<Response> {
  return platform.call(key, 'POST', '/v1/fine_tuning/jobs', {
    body: JSON.stringify(body),
    headers: { ...JSON_HEADERS, ...headers },
  });
}

export async function getJob(platform: TestPlatform, key: string, jobId: string): Promise<FineTuningJob> {
  const response = await platform.call(key, 'GET', `/v1/fine_tuning/jobs/${jobId}`);
  if (response.status !== 200) throw new Error(`get ${jobId}: ${response.status} ${await response.text()}`);
  return (await response.json()) as FineTuningJob;
}

/** Polls until the job satisfies `done`, or fails naming the last state seen. */
export async function waitForJob(
  platform: TestPlatform,
  key: string,
  jobId: string,
  done: (job: FineTuningJob) => boolean,
  timeoutMs = 20_000,
): Promise<FineTuningJob> {
  const deadline = Date.now() + timeoutMs;
  let job = await getJob(platform, key, jobId);
  while (!done(job)) {
    if (Date.now() > deadline) {
      throw new Error(`job ${jobId} did not get there in ${timeoutMs} ms; last: ${JSON.stringify(job)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
    job = await getJob(platform, key, jobId);
  }
  return job;
}

export function hasStatus(...statuses: FineTuningJob['status'][]): (job: FineTuningJob) => boolean {
  return (job) => statuses.includes(job.status);
}

/** Resolves with the probe's first defined value, or fails after `timeoutMs`. */
export async function waitFor<T>(
  probe: () => T | undefined | Promise<T | undefined>,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch {
      // not there yet
    }
    if (Date.now() > deadline) throw new Error(`gave up waiting after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The messages of a job's newest 100 events, oldest first. */
export async function eventMessages(platform: TestPlatform, key: string, jobId: string): Promise<string[]> {
  const response = await platform.call(key, 'GET', `/v1/fine_tuning/jobs/${jobId}/events?limit=100`);
  return ((await response.json()) as { data: { message: string }[] }).data
    .map((event) => event.message)
    .reverse();
}

/**
 * Running, as the compute reports it, is not yet training: the test trainer says when it has
 * started, and only then does a SIGTERM reach a trainer that checkpoints.
 */
export async function trainerStarted(
  platform: TestPlatform,
  key: string,
  jobId: string,
  attempt = 1,
): Promise<void> {
  await waitFor(async () =>
    (await eventMessages(platform, key, jobId)).some((message) =>
      message.startsWith(`Test trainer attempt ${attempt} started`),
    )
      ? true
      : undefined,
  );
}

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

import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readTrainerEnv, type TrainerEnv } from './runtime/env';
import { TrainerInputError } from './runtime/errors';
import { classifyFailure, type LocalInputPaths } from './runtime/failure';
import { DEFAULT_RETRY_DELAYS_MS, ObjectsByUri } from './runtime/objects';
import { JobRecords } from './runtime/records';
import { runJob } from './runtime/run-job';
import { TrainingStoppedError } from './train';

/**
 * The trainer's entry point, started by the launchers under the env contract (DESIGN.md, Trainer
 * contract) as a plain `node` process, so signals reach it directly.
 *
 * Exit codes: 0, trained and stored; 143, stopped by SIGTERM (after checkpointing the step under
 * way once training has begun), which the retry rule retries; 2, the job's inputs are wrong
 * (never retried); 1, anything else. On 1 and 2 the job's `error` says why and an `error` event is
 * appended.
 */
const SIGTERM_EXIT_CODE = 143;
/** `WHETSTONE_STORAGE_RETRY_DELAYS_MS`: comma-separated waits between S3 tries, for tests and slow networks. */
const RETRY_DELAYS_VARIABLE = 'WHETSTONE_STORAGE_RETRY_DELAYS_MS';
/** `WHETSTONE_WORK_DIR`: where attempts keep their downloads and outputs; default the system's temp folder. */
const WORK_DIR_VARIABLE = 'WHETSTONE_WORK_DIR';
/** `WHETSTONE_BACKEND`: the kernel back end; default the fastest this machine runs. */
const BACKEND_VARIABLE = 'WHETSTONE_BACKEND';

async function main(): Promise<number> {
  let env: TrainerEnv;
  let retryDelaysMs: readonly number[];
  try {
    env = readTrainerEnv(process.env);
    retryDelaysMs = retryDelays(process.env[RETRY_DELAYS_VARIABLE]);
  } catch (error) {
    // Without the contract there is no job to report to.
    console.error(`Invalid trainer input: ${(error as Error).message}`);
    return error instanceof TrainerInputError ? TrainerInputError.exitCode : 1;
  }
  const records = new JobRecords(env);
  const objects = new ObjectsByUri(env.environment, {
    retryDelaysMs,
    onRetry: (what, failed, error) =>
      console.error(`S3 try ${failed} to ${what} failed (${(error as Error).message}); trying again`),
  });
  const workDir = join(
    process.env[WORK_DIR_VARIABLE] || tmpdir(),
    'whetstone-trainer',
    env.jobId,
    `launch-${env.launch}-attempt-${env.attempt}`,
  );
  const controller = new AbortController();
  let training = false;
  process.on('SIGTERM', () => {
    if (controller.signal.aborted) return;
    controller.abort();
    if (!training) {
      console.log('SIGTERM before training began: stopping; the next attempt starts where the job stands');
      process.exit(SIGTERM_EXIT_CODE);
    }
    console.log('SIGTERM: checkpointing after the step under way, then stopping');
  });

  const paths: { value: LocalInputPaths } = { value: {} };
  try {
    await rm(workDir, { recursive: true, force: true });
    const summary = await runJob({
      env,
      records,
      objects,
      workDir,
      signal: controller.signal,
      backend: process.env[BACKEND_VARIABLE] || 'native',
      onInputs: (inputs) => {
        paths.value = inputs;
      },
      onTrainingStarted: () => {
        training = true;
      },
    });
    console.log(
      `Job ${env.jobId}: trained ${summary.steps} steps on ${summary.processedTokens} tokens in ${summary.seconds.toFixed(1)} s (${summary.backend})`,
    );
    return 0;
  } catch (error) {
    if (error instanceof TrainingStoppedError) {
      console.log(error.message);
      return SIGTERM_EXIT_CODE;
    }
    const { failure, exitCode } = classifyFailure(error, paths.value);
    console.error(`Job ${env.jobId} failed (${failure.code}): ${failure.message}`);
    if (exitCode === 1 && error instanceof Error && error.stack) console.error(error.stack);
    await records.fail(failure).catch((writeError: unknown) => {
      console.error('The job error could not be recorded:', (writeError as Error).message);
    });
    await records
      .event('error', failure.message, { code: failure.code, param: failure.param })
      .catch(() => {});
    return exitCode;
  } finally {
    await rm(workDir, { recursive: true, force: true }).catch(() => {});
  }
}

function retryDelays(text: string | undefined): readonly number[] {
  if (text === undefined || text === '') return DEFAULT_RETRY_DELAYS_MS;
  const delays = text.split(',').map((part) => Number(part.trim()));
  if (delays.some((delay) => !Number.isInteger(delay) || delay < 0)) {
    throw new TrainerInputError(
      `${RETRY_DELAYS_VARIABLE} must be comma-separated milliseconds, not '${text}'`,
    );
  }
  return delays;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error('The trainer failed:', error);
    process.exit(1);
  },
);

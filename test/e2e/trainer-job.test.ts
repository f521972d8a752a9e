import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createS3Client } from '../../lib/adapters';
import { KEPT_CHECKPOINTS } from '../../lib/core/jobs';
import type { FineTuningJob, JobCheckpoint, JobEvent } from '../../lib/core/schemas';
import { RESULT_COLUMNS } from '../../trainer/src/train';
import { createJob, waitForJob } from '../helpers/jobs';
import { uploadModelFiles } from '../helpers/models';
import { startTestPlatform, type TestPlatform } from '../helpers/platform';
import {
  ANIMALS,
  animalDataset,
  completeCheckpointSteps,
  freezeTrainerAfterFirstCheckpoint,
  HELD_OUT_ANIMALS,
  PRODUCT_TRAINER,
  registerModelDir,
  settledCheckpointSteps,
  uploadJsonl,
  writeTinyChatModel,
} from '../helpers/trainer/chat-job';

const MODEL = 'tiny-chat';
/** 24 examples in batches of 4: 6 steps an epoch, 18 in all, a checkpoint every 3. */
const TRAINING_EXAMPLES = 24;
const TOTAL_STEPS = 18;
const JOB_TIMEOUT_MS = 120_000;

type Job = FineTuningJob & { whetstone: NonNullable<FineTuningJob['whetstone']> };

describe('a fine-tuning job run by the product trainer on the local platform', { timeout: 240_000 }, () => {
  let platform: TestPlatform;
  let key: string;
  let scratch: string;
  let trainingFile: string;
  let validationFile: string;

  beforeAll(async () => {
    platform = await startTestPlatform({ jobs: { trainerEntry: PRODUCT_TRAINER, concurrency: 2 } });
    key = platform.ownerKey;
    scratch = mkdtempSync(join(tmpdir(), 'whetstone-trainer-job-'));
    await writeTinyChatModel(join(scratch, 'model'));
    await registerModelDir(platform, MODEL, join(scratch, 'model'));
    trainingFile = await uploadJsonl(
      platform,
      key,
      animalDataset(ANIMALS.slice(0, 12), TRAINING_EXAMPLES),
      'train.jsonl',
    );
    validationFile = await uploadJsonl(platform, key, animalDataset(HELD_OUT_ANIMALS), 'validation.jsonl');
  }, 120_000);

  afterAll(async () => {
    await platform?.stop();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  async function startJob(extra: Record<string, unknown> = {}): Promise<string> {
    const response = await createJob(platform, key, {
      model: MODEL,
      training_file: trainingFile,
      validation_file: validationFile,
      seed: 7,
      hyperparameters: { n_epochs: 3, batch_size: 4, learning_rate_multiplier: 5 },
      whetstone: {
        training_method: 'lora',
        lora: { rank: 8, alpha: 16, dropout: 0, target_modules: 'all-linear' },
        max_seq_length: 64,
        checkpoint_interval_steps: 3,
      },
      ...extra,
    });
    const body = (await response.json()) as { id: string };
    expect(response.status, JSON.stringify(body)).toBe(200);
    return body.id;
  }

  const finished = (job: FineTuningJob) => ['succeeded', 'failed', 'cancelled'].includes(job.status);

  async function objectBytes(key: string): Promise<Buffer> {
    const s3 = createS3Client({
      endpoint: platform.platform.s3Endpoint,
      forcePathStyle: true,
      region: 'us-east-1',
    });
    try {
      const output = await s3.send(new GetObjectCommand({ Bucket: platform.platform.bucket, Key: key }));
      return Buffer.from(
        await (output.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray(),
      );
    } finally {
      s3.destroy();
    }
  }

  async function events(jobId: string): Promise<JobEvent[]> {
    const response = await platform.call(key, 'GET', `/v1/fine_tuning/jobs/${jobId}/events?limit=100`);
    return ((await response.json()) as { data: JobEvent[] }).data.reverse();
  }

  let uninterrupted: Job;

  it('trains a LoRA adapter and stores it with metrics, results, evaluation and manifest', async () => {
    // Act
    const jobId = await startJob();
    const job = (await waitForJob(platform, key, jobId, finished, JOB_TIMEOUT_MS)) as Job;
    uninterrupted = job;

    // Assess: the job
    expect(job.error).toBeNull();
    expect(job.status).toBe('succeeded');
    expect(job.fine_tuned_model).toMatch(/^ft:tiny-chat:default::/);
    expect(job.hyperparameters).toEqual({ n_epochs: 3, batch_size: 4, learning_rate_multiplier: 5 });
    expect(job.result_files).toHaveLength(1);
    expect(job.whetstone.attempts).toHaveLength(1);
    expect(job.whetstone.attempts[0]).toMatchObject({
      launch: 1,
      attempt: 1,
      exit_code: 0,
      instance_type: 'local',
      market: 'local',
      region: 'local',
    });

    // Assess: the artifacts
    const prefix = `artifacts/default/${jobId}/`;
    const keys = (await platform.listObjects()).filter((object) => object.startsWith(prefix));
    const relative = keys.map((object) => object.slice(prefix.length));
    expect(relative).toEqual(
      expect.arrayContaining([
        'spec.json',
        'adapter/adapter_config.json',
        'adapter/adapter_model.safetensors',
        'metrics.jsonl',
        'result.csv',
        'summary.json',
        'eval/metrics.json',
        'eval/samples.jsonl',
        'manifest.json',
        'checkpoints/step-9/checkpoint.json',
        'checkpoints/step-15/checkpoint.json',
      ]),
    );
    // Checkpoints at 3, 6, 9, 12 and 15 were saved; only the newest three are kept, whole.
    expect(relative.filter((path) => path.endsWith('checkpoint.json'))).toHaveLength(KEPT_CHECKPOINTS);
    expect(await checkpointFolderSteps(jobId)).toEqual([9, 12, 15]);
    const adapterConfig = JSON.parse(await platform.readObject(`${prefix}adapter/adapter_config.json`));
    expect(adapterConfig).toMatchObject({
      base_model_name_or_path: MODEL,
      r: 8,
      lora_alpha: 16,
      peft_type: 'LORA',
    });

    const metrics = (await platform.readObject(`${prefix}metrics.jsonl`))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    const steps = metrics.filter((line) => 'train_loss' in line);
    const evaluations = metrics.filter((line) => 'valid_loss' in line);
    expect(steps.map((line) => line.step)).toEqual(Array.from({ length: TOTAL_STEPS }, (_, i) => i + 1));
    expect(evaluations.map((line) => line.step)).toEqual([0, 6, 12, 18]);
    expect(evaluations.at(-1).valid_loss).toBeLessThan(evaluations[0].valid_loss - 1);

    const csv = (await platform.readObject(`${prefix}result.csv`)).trim().split('\n');
    expect(csv[0]).toBe(RESULT_COLUMNS.join(','));
    expect(csv).toHaveLength(TOTAL_STEPS + 1);
    const row6 = (csv[6] ?? '').split(',');
    expect(Number(row6[0])).toBe(6);
    expect(Number(row6[3])).toBeCloseTo(evaluations[1].valid_loss, 4);
    expect((csv[1] ?? '').split(',')[3]).toBe('');
    const resultFile = await platform.call(key, 'GET', `/v1/files/${job.result_files[0]}/content`);
    expect(resultFile.status).toBe(200);
    expect((await resultFile.text()).trim().split('\n')).toEqual(csv);

    const evaluation = JSON.parse(await platform.readObject(`${prefix}eval/metrics.json`));
    expect(evaluation.validation_examples).toBe(10);
    expect(evaluation.base.exact_match_examples).toBe(10);
    expect(evaluation.tuned.valid_loss).toBeCloseTo(evaluations.at(-1).valid_loss, 6);
    expect(evaluation.base.valid_loss).toBeCloseTo(evaluations[0].valid_loss, 6);
    const samples = (await platform.readObject(`${prefix}eval/samples.jsonl`))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(samples).toHaveLength(10);
    expect(samples[0]).toMatchObject({
      index: 0,
      messages: [{ role: 'user', content: `Name an animal like ${HELD_OUT_ANIMALS[0]}.` }],
      reference: `The ${HELD_OUT_ANIMALS[0]} is an animal.`,
    });

    const manifest = JSON.parse(await platform.readObject(`${prefix}manifest.json`));
    const adapterBytes = await objectBytes(`${prefix}adapter/adapter_model.safetensors`);
    expect(manifest).toMatchObject({
      manifest_version: 1,
      job_id: jobId,
      engine: { name: 'whetstone', backend: 'native' },
      hyperparameters: { n_epochs: 3, batch_size: 4, learning_rate_multiplier: 5 },
      seed: 7,
      finished_by: { launch: 1, attempt: 1, resumed_at_step: 0 },
    });
    expect(manifest.training_file.sha256).toBe(
      createHash('sha256')
        .update(await platform.readObject(`files/default/${trainingFile}`))
        .digest('hex'),
    );
    expect(manifest.outputs).toContainEqual({
      path: 'adapter/adapter_model.safetensors',
      bytes: adapterBytes.length,
      sha256: createHash('sha256').update(adapterBytes).digest('hex'),
    });
    expect(job.trained_tokens).toBe(
      JSON.parse(await platform.readObject(`${prefix}summary.json`)).processedTokens,
    );

    // Assess: checkpoints and events
    const checkpoints = (await (
      await platform.call(key, 'GET', `/v1/fine_tuning/jobs/${jobId}/checkpoints`)
    ).json()) as { data: JobCheckpoint[] };
    expect(checkpoints.data.map((checkpoint) => checkpoint.step_number)).toEqual([15, 12, 9]);
    expect(checkpoints.data[1]?.metrics).toMatchObject({ step: 12, valid_loss: evaluations[2].valid_loss });
    expect(checkpoints.data[1]?.fine_tuned_model_checkpoint).toBe(`${job.fine_tuned_model}:ckpt-step-12`);
    const metricEvents = (await events(jobId)).filter(
      (event) => event.type === 'metrics' && event.data?.total_steps,
    );
    expect(metricEvents.at(-1)?.data).toMatchObject({
      step: TOTAL_STEPS,
      total_steps: TOTAL_STEPS,
      epoch: 3,
    });
    for (const field of [
      'train_loss',
      'train_mean_token_accuracy',
      'learning_rate',
      'tokens_per_second',
      'eta_seconds',
    ]) {
      expect(typeof metricEvents.at(-1)?.data?.[field], field).toBe('number');
    }
  });

  it('lists the fine-tuned model once the job succeeds', async () => {
    // Act
    const response = await platform.call(
      key,
      'GET',
      `/v1/models/${encodeURIComponent(uninterrupted.fine_tuned_model ?? '')}`,
    );

    // Assess
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ id: uninterrupted.fine_tuned_model, owned_by: 'default' });
  });

  const freezeAfterFirstCheckpoint = (jobId: string) =>
    freezeTrainerAfterFirstCheckpoint(platform, key, jobId, JOB_TIMEOUT_MS);
  const storedCheckpointSteps = (jobId: string) => completeCheckpointSteps(platform, 'default', jobId);

  async function resumedAt(jobId: string): Promise<{ step: number; attempt: unknown }> {
    const resumed = (await events(jobId)).filter((event) =>
      event.message.startsWith('Resumed from the checkpoint'),
    );
    expect(resumed).toHaveLength(1);
    return { step: Number(resumed[0]?.data?.resumedAtStep), attempt: resumed[0]?.data?.attempt };
  }

  /** Every attempt's trainer output, for a failure's message. */
  function attemptLogs(jobId: string): string {
    const dir = join(platform.platform.dataDir, 'jobs', jobId);
    return readdirSync(dir)
      .map((name) => `--- ${name}\n${readFileSync(join(dir, name), 'utf8')}`)
      .join('\n');
  }

  /** Steps of the checkpoint folders holding any object, complete or not, ascending. */
  async function checkpointFolderSteps(jobId: string): Promise<number[]> {
    const prefix = `artifacts/default/${jobId}/checkpoints/`;
    const steps = (await platform.listObjects())
      .filter((object) => object.startsWith(prefix))
      .map((object) => Number(/^step-([0-9]+)\//.exec(object.slice(prefix.length))?.[1]));
    return [...new Set(steps)].sort((a, b) => a - b);
  }

  /**
   * Of every checkpoint the job saved (those its events report, and `alsoSaved`, which a killed
   * attempt stored but did not get to report), only the newest three are left, in the bucket and
   * in the checkpoints list, and nothing else is left under checkpoints/.
   */
  async function expectNewestCheckpointsKept(
    jobId: string,
    alsoSaved: readonly number[] = [],
  ): Promise<void> {
    const saved = (await events(jobId))
      .filter((event) => event.message.startsWith('Checkpoint saved'))
      .map((event) => Number(event.data?.step));
    const newest = [...new Set([...saved, ...alsoSaved])].sort((a, b) => b - a).slice(0, KEPT_CHECKPOINTS);
    expect(newest).toHaveLength(KEPT_CHECKPOINTS);
    const listed = (await (
      await platform.call(key, 'GET', `/v1/fine_tuning/jobs/${jobId}/checkpoints`)
    ).json()) as { data: JobCheckpoint[] };
    expect(listed.data.map((checkpoint) => checkpoint.step_number)).toEqual(newest);
    expect(await checkpointFolderSteps(jobId)).toEqual([...newest].reverse());
    expect(await storedCheckpointSteps(jobId)).toEqual([...newest].reverse());
  }

  async function adapterOf(jobId: string): Promise<Buffer> {
    return objectBytes(`artifacts/default/${jobId}/adapter/adapter_model.safetensors`);
  }

  it('after SIGTERM checkpoints the step under way, exits 143, and the retry resumes there to the same adapter', async () => {
    // Prepare
    const jobId = await startJob();
    const pid = await freezeAfterFirstCheckpoint(jobId);
    const before = await storedCheckpointSteps(jobId);

    // Act
    process.kill(pid, 'SIGTERM');
    process.kill(pid, 'SIGCONT');
    const job = (await waitForJob(platform, key, jobId, finished, JOB_TIMEOUT_MS)) as Job;

    // Assess
    expect(job.status).toBe('succeeded');
    expect(job.whetstone.attempts.map((attempt) => [attempt.attempt, attempt.exit_code])).toEqual([
      [1, 143],
      [2, 0],
    ]);
    const savedOnStop = (await events(jobId))
      .filter((event) => event.message.startsWith('Checkpoint saved') && event.data?.attempt === 1)
      .map((event) => Number(event.data?.step));
    const lastBeforeStop = Math.max(...before);
    const resumed = await resumedAt(jobId);
    expect(resumed).toEqual({ step: Math.max(...savedOnStop), attempt: 2 });
    expect(resumed.step).toBeGreaterThanOrEqual(lastBeforeStop);
    expect(resumed.step).toBeLessThan(TOTAL_STEPS);
    expect(Buffer.compare(await adapterOf(jobId), await adapterOf(uninterrupted.id))).toBe(0);
    await expectNewestCheckpointsKept(jobId);
  });

  it('after SIGKILL the retry resumes at the newest complete checkpoint, to the same adapter', async () => {
    // Prepare
    const jobId = await startJob();
    const pid = await freezeAfterFirstCheckpoint(jobId);
    const complete = await settledCheckpointSteps(platform, 'default', jobId);

    // Act
    process.kill(pid, 'SIGKILL');
    const job = (await waitForJob(platform, key, jobId, finished, JOB_TIMEOUT_MS)) as Job;

    // Assess
    expect(job.status).toBe('succeeded');
    expect(job.whetstone.attempts.map((attempt) => [attempt.attempt, attempt.exit_code])).toEqual([
      [1, 137],
      [2, 0],
    ]);
    expect(complete.length).toBeGreaterThan(0);
    expect(await resumedAt(jobId)).toEqual({ step: Math.max(...complete), attempt: 2 });
    expect(Buffer.compare(await adapterOf(jobId), await adapterOf(uninterrupted.id))).toBe(0);
    await expectNewestCheckpointsKept(jobId, complete);
  });

  it('pauses at a checkpoint and, resumed, continues from it in a new launch to the same adapter', async () => {
    // Prepare
    const jobId = await startJob();
    const pid = await freezeAfterFirstCheckpoint(jobId);

    // Act
    const paused = await platform.call(key, 'POST', `/v1/fine_tuning/jobs/${jobId}/pause`);
    process.kill(pid, 'SIGCONT');
    await waitForJob(platform, key, jobId, (job) => job.status === 'paused', JOB_TIMEOUT_MS);
    const stoppedAt = Math.max(...(await storedCheckpointSteps(jobId)));
    const resumed = await platform.call(key, 'POST', `/v1/fine_tuning/jobs/${jobId}/resume`);
    const job = (await waitForJob(platform, key, jobId, finished, JOB_TIMEOUT_MS)) as Job;

    // Assess
    expect([paused.status, resumed.status]).toEqual([200, 200]);
    expect(job.status).toBe('succeeded');
    expect(
      job.whetstone.attempts.map((attempt) => [attempt.launch, attempt.attempt, attempt.exit_code]),
    ).toEqual([
      [1, 1, 143],
      [2, 1, 0],
    ]);
    const resumedEvents = (await events(jobId)).filter((event) => event.message.startsWith('Resumed from'));
    expect(resumedEvents.map((event) => [event.data?.launch, event.data?.resumedAtStep])).toEqual([
      [2, stoppedAt],
    ]);
    expect(Buffer.compare(await adapterOf(jobId), await adapterOf(uninterrupted.id))).toBe(0);
    await expectNewestCheckpointsKept(jobId);
  });

  it('resolves auto hyperparameters, holds out validation examples and warns of cut examples, in events', async () => {
    // Act
    const response = await createJob(platform, key, {
      model: MODEL,
      training_file: trainingFile,
      seed: 7,
      whetstone: { max_seq_length: 40 },
    });
    const jobId = ((await response.json()) as { id: string }).id;
    const job = (await waitForJob(platform, key, jobId, finished, JOB_TIMEOUT_MS)) as Job;

    // Assess: 24 examples x 3 epochs is under 100, so 4 epochs; batch 1 (0.2% of 24, rounded up); multiplier 0.05
    expect([job.status, job.error], attemptLogs(jobId)).toEqual(['succeeded', null]);
    expect(job.hyperparameters).toEqual({ n_epochs: 4, batch_size: 1, learning_rate_multiplier: 0.05 });
    const messages = (await events(jobId)).map((event) => event.message);
    expect(messages).toContainEqual(expect.stringMatching(/^n_epochs 4: 24 training examples x 3 epochs/));
    expect(messages).toContain(
      'No validation file: 2 of the 24 training examples (10%), drawn with seed 7, are held out for validation',
    );
    expect(messages).toContain('training.jsonl: 24 of 24 examples were cut to 40 tokens');
    const evaluation = JSON.parse(await platform.readObject(`artifacts/default/${jobId}/eval/metrics.json`));
    expect(evaluation.validation_examples).toBe(2);
    const metrics = (await platform.readObject(`artifacts/default/${jobId}/metrics.jsonl`))
      .trim()
      .split('\n');
    expect(metrics.filter((line) => line.includes('train_loss'))).toHaveLength(4 * 22);
  });

  it('fails at once with exit 2, naming the line, when the stored training file turns out malformed', async () => {
    // Prepare: after validation the stored copy is replaced by one of the same size with a broken third line.
    const good = animalDataset(ANIMALS.slice(0, 12));
    const fileId = await uploadJsonl(platform, key, good, 'train.jsonl');
    const lines = good.split('\n');
    lines[2] = `{${(lines[2] ?? '').slice(1, -1)}!`;
    await uploadModelFiles(platform, `files/default/`, { [fileId]: Buffer.from(lines.join('\n')) });

    // Act
    const jobId = await startJob({ training_file: fileId });
    const job = (await waitForJob(platform, key, jobId, finished, JOB_TIMEOUT_MS)) as Job;

    // Assess
    expect(job.status).toBe('failed');
    expect(job.whetstone.attempts.map((attempt) => attempt.exit_code)).toEqual([2]);
    expect(job.error).toEqual({
      code: 'invalid_training_file',
      message: expect.stringMatching(/^The training file cannot be used: training\.jsonl:3: invalid JSON \(/),
      param: 'training_file',
    });
    const last = (await events(jobId)).filter((event) => event.level === 'error');
    expect(last.map((event) => event.message)).toContain(job.error?.message);
  });

  it('fails at once with exit 2 when max_seq_length cuts every trained token', async () => {
    // Act
    const jobId = await startJob({ whetstone: { max_seq_length: 16 } });
    const job = (await waitForJob(platform, key, jobId, finished, JOB_TIMEOUT_MS)) as Job;

    // Assess
    expect(job.whetstone.attempts.map((attempt) => attempt.exit_code)).toEqual([2]);
    expect(job.error).toEqual({
      code: 'invalid_training_file',
      message:
        'The training file cannot be used: training.jsonl: no example has a trained token within its first 16 tokens (assistant replies with weight 1, or completions), so there is nothing to learn',
      param: 'training_file',
    });
  });

  it('fails at once with exit 2 when a file of the base model is missing', async () => {
    // Prepare
    await registerModelDir(platform, 'tiny-chat-broken', join(scratch, 'model'), ['tokenizer.json']);

    // Act
    const jobId = await startJob({ model: 'tiny-chat-broken' });
    const job = (await waitForJob(platform, key, jobId, finished, JOB_TIMEOUT_MS)) as Job;

    // Assess
    expect(job.status).toBe('failed');
    expect(job.whetstone.attempts.map((attempt) => attempt.exit_code)).toEqual([2]);
    expect(job.error?.code).toBe('invalid_base_model');
    expect(job.error?.param).toBe('model');
    expect(job.error?.message).toMatch(/^The base model cannot be used: .*tokenizer\.json/);
  });
});

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createS3Client } from '../../lib/adapters';
import type { FineTuningJob } from '../../lib/core/schemas';
import type { RunningService } from '../../lib/local/services/dynamodb-local';
import { startOnFreePort } from '../../lib/local/services/ports';
import { startS3Server } from '../../lib/local/services/s3-server';
import { createJob, waitForJob } from '../helpers/jobs';
import { startTestPlatform, type TestPlatform } from '../helpers/platform';
import {
  ANIMALS,
  animalDataset,
  freezeTrainerAfterFirstCheckpoint,
  HELD_OUT_ANIMALS,
  PRODUCT_TRAINER,
  registerModelDir,
  settledCheckpointSteps,
  uploadJsonl,
  writeTinyChatModel,
} from '../helpers/trainer/chat-job';

const JOB_TIMEOUT_MS = 180_000;

describe('the product trainer when S3 goes away during a job', { timeout: 300_000 }, () => {
  let platform: TestPlatform;
  let scratch: string;
  let restarted: RunningService | undefined;

  beforeAll(async () => {
    platform = await startTestPlatform({ jobs: { trainerEntry: PRODUCT_TRAINER } });
    scratch = mkdtempSync(join(tmpdir(), 'whetstone-outage-'));
    await writeTinyChatModel(join(scratch, 'model'));
    await registerModelDir(platform, 'tiny-chat', join(scratch, 'model'));
  }, 120_000);

  afterAll(async () => {
    await restarted?.stop();
    await platform?.stop();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  it('retries with backoff, then fails the job naming the upload, keeping every checkpoint already written', async () => {
    // Prepare
    const key = platform.ownerKey;
    const trainingFile = await uploadJsonl(
      platform,
      key,
      animalDataset(ANIMALS.slice(0, 12), 24),
      'train.jsonl',
    );
    const validationFile = await uploadJsonl(
      platform,
      key,
      animalDataset(HELD_OUT_ANIMALS),
      'validation.jsonl',
    );
    const created = await createJob(platform, key, {
      model: 'tiny-chat',
      training_file: trainingFile,
      validation_file: validationFile,
      seed: 7,
      hyperparameters: { n_epochs: 3, batch_size: 4, learning_rate_multiplier: 5 },
      whetstone: { max_seq_length: 64, checkpoint_interval_steps: 3 },
    });
    const jobId = ((await created.json()) as { id: string }).id;
    const pid = await freezeTrainerAfterFirstCheckpoint(platform, key, jobId, JOB_TIMEOUT_MS);
    const written = await settledCheckpointSteps(platform, 'default', jobId);
    const prefix = `artifacts/default/${jobId}/checkpoints/`;
    const writtenKeys = (await platform.listObjects()).filter((object) => object.startsWith(prefix));

    // Act
    await platform.platform.services.s3.stop();
    const stoppedAt = Date.now();
    process.kill(pid, 'SIGCONT');
    const job = (await waitForJob(
      platform,
      key,
      jobId,
      (current: FineTuningJob) => current.status === 'failed' || current.status === 'succeeded',
      JOB_TIMEOUT_MS,
    )) as FineTuningJob & { whetstone: NonNullable<FineTuningJob['whetstone']> };

    // Assess: the job failed once the retries ran out (about 31 s of backoff), without a retry of its own
    expect(job.status).toBe('failed');
    expect(Date.now() - stoppedAt).toBeGreaterThan(30_000);
    expect(job.whetstone.attempts.map((attempt) => attempt.exit_code)).toEqual([1]);
    expect(job.error?.code).toBe('storage_unavailable');
    expect(job.error?.message).toMatch(
      new RegExp(
        `^Could not (upload|write) .* to s3://[^ ]+/artifacts/default/${jobId}/.*: S3 failed 7 tries in a row \\(last: `,
      ),
    );

    // Assess: every checkpoint written before the outage is still complete in the bucket
    restarted = await startOnFreePort((port) =>
      startS3Server({
        dataDir: join(platform.platform.dataDir, 's3'),
        port,
        bucket: platform.platform.bucket,
      }),
    );
    const s3 = createS3Client({ endpoint: restarted.endpoint, forcePathStyle: true, region: 'us-east-1' });
    const listed = await s3.send(
      new ListObjectsV2Command({ Bucket: platform.platform.bucket, Prefix: prefix }),
    );
    s3.destroy();
    const keys = (listed.Contents ?? []).map((object) => object.Key);
    expect(written.length).toBeGreaterThan(0);
    expect(keys).toEqual(expect.arrayContaining(writtenKeys));
  });
});

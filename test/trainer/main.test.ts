import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createS3Client } from '../../lib/adapters';
import { newId } from '../../lib/core/ids';
import type { JobSpec } from '../../lib/core/jobs';
import { whetstoneOptionsSchema } from '../../lib/core/schemas';
import { startTestPlatform, type TestPlatform } from '../helpers/platform';

const ROOT = resolve(__dirname, '..', '..');
const BUCKET = 'whetstone-trainer-test';
const TEST_TRAINER = 'test/helpers/trainer/test-trainer.ts';

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the trainer as the launchers do: node itself, with the environment it is given and no other. */
function runTrainer(
  env: Record<string, string>,
  entry = 'trainer/src/main.ts',
  onStdout: (text: string, pid: number) => void = () => undefined,
): Promise<Run> {
  return new Promise((resolveRun, rejectRun) => {
    const child = spawn(process.execPath, ['--import', 'tsx', entry], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
      onStdout(stdout, child.pid as number);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });
    child.once('error', rejectRun);
    child.once('close', (code) => resolveRun({ code, stdout, stderr }));
  });
}

function contractEnv(jobId: string, specUri: string): Record<string, string> {
  return {
    WHETSTONE_JOB_ID: jobId,
    WHETSTONE_TEAM: 'research',
    WHETSTONE_LAUNCH: '1',
    WHETSTONE_SPEC_URI: specUri,
    WHETSTONE_TABLE: 'whetstone-test',
    WHETSTONE_BUCKET: BUCKET,
    WHETSTONE_ENV: 'local',
  };
}

describe('trainer entry point, without the platform', () => {
  it('exits 2 naming the first contract variable that is missing', async () => {
    // Prepare
    const env = contractEnv(newId('job'), `s3://${BUCKET}/artifacts/research/x/spec.json`);
    delete (env as Partial<typeof env>).WHETSTONE_SPEC_URI;

    // Act
    const run = await runTrainer(env);

    // Assess
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(
      'Invalid trainer input: WHETSTONE_SPEC_URI is not set; the launcher sets it for every trainer\n',
    );
  });

  it('exits 2 when the launch number is not a positive integer', async () => {
    // Act
    const run = await runTrainer({
      ...contractEnv(newId('job'), `s3://${BUCKET}/spec.json`),
      WHETSTONE_LAUNCH: 'first',
    });

    // Assess
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(
      "Invalid trainer input: WHETSTONE_LAUNCH must be a positive integer, not 'first'\n",
    );
  });
});

describe('trainer entry point, against the local services', () => {
  let platform: TestPlatform;
  let bucket: string;
  let s3Env: Record<string, string>;
  let put: (key: string, body: string) => Promise<void>;

  beforeAll(async () => {
    platform = await startTestPlatform();
    bucket = platform.platform.bucket;
    s3Env = {
      AWS_ENDPOINT_URL_S3: platform.platform.s3Endpoint,
      AWS_ENDPOINT_URL_DYNAMODB: platform.platform.dynamodbEndpoint,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'S3RVER',
      AWS_SECRET_ACCESS_KEY: 'S3RVER',
      WHETSTONE_TABLE: platform.platform.table,
      WHETSTONE_BUCKET: platform.platform.bucket,
    };
    const client = createS3Client({
      endpoint: platform.platform.s3Endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
    });
    client.config.credentials = async () => ({ accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' });
    put = async (key, body) => {
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
    };
  }, 60_000);
  afterAll(async () => {
    await platform?.stop();
  });

  function jobSpec(jobId: string, trainingBytes: number): JobSpec {
    return {
      spec_version: 1,
      job_id: jobId,
      team: 'research',
      created_at: 1_700_000_000,
      model: {
        requested: 'tiny-llama',
        base: 'tiny-llama',
        architecture: 'LlamaForCausalLM',
        uri: `s3://${bucket}/models/tiny-llama-${jobId}/`,
        parent_uri: null,
      },
      training_file: {
        id: 'file-01HZX3Y8K9M2N4P6Q8R0S2T4V6',
        uri: `s3://${bucket}/files/research/file-${jobId}`,
        bytes: trainingBytes,
      },
      validation_file: null,
      hyperparameters: { batch_size: 'auto', learning_rate_multiplier: 'auto', n_epochs: 'auto' },
      seed: 42,
      suffix: null,
      fine_tuned_model: `ft:tiny-llama:research::${jobId}`,
      options: whetstoneOptionsSchema.parse({}),
      output_uri: `s3://${bucket}/artifacts/research/${jobId}/`,
    };
  }

  it('exits 2 when the job spec does not exist', async () => {
    // Prepare
    const jobId = newId('job');
    const specUri = `s3://${bucket}/artifacts/research/${jobId}/spec.json`;

    // Act
    const run = await runTrainer({ ...contractEnv(jobId, specUri), ...s3Env });

    // Assess
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(
      `Job ${jobId} failed (invalid_job_spec): The job spec ${specUri} does not exist\n`,
    );
  });

  it('exits 2 naming the field at fault when the job spec is invalid', async () => {
    // Prepare
    const jobId = newId('job');
    const key = `artifacts/research/${jobId}/spec.json`;
    const spec = jobSpec(jobId, 10);
    await put(key, JSON.stringify({ ...spec, model: { ...spec.model, architecture: 'GPT2LMHeadModel' } }));

    // Act
    const run = await runTrainer({ ...contractEnv(jobId, `s3://${bucket}/${key}`), ...s3Env });

    // Assess
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(
      `Job ${jobId} failed (invalid_job_spec): The job spec s3://${bucket}/${key} is invalid at model.architecture: Invalid option`,
    );
  });

  it('exits 2 naming every input object that is missing or not the size the spec recorded', async () => {
    // Prepare
    const jobId = newId('job');
    const key = `artifacts/research/${jobId}/spec.json`;
    const spec = jobSpec(jobId, 999);
    await put(key, JSON.stringify(spec));
    await put(`files/research/file-${jobId}`, '{"messages":[]}\n');

    // Act
    const run = await runTrainer({ ...contractEnv(jobId, `s3://${bucket}/${key}`), ...s3Env });

    // Assess
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(
      `Job ${jobId} failed (invalid_job_spec): Job ${jobId} cannot run: the base model tiny-llama's config.json is missing (s3://${bucket}/models/tiny-llama-${jobId}/config.json); the training file file-01HZX3Y8K9M2N4P6Q8R0S2T4V6 has 16 bytes where the spec recorded 999 (s3://${bucket}/files/research/file-${jobId})\n`,
    );
  });

  it('exits 2 when the spec belongs to another job', async () => {
    // Prepare
    const jobId = newId('job');
    const otherJob = newId('job');
    const key = `artifacts/research/${jobId}/spec.json`;
    await put(key, JSON.stringify(jobSpec(otherJob, 10)));

    // Act
    const run = await runTrainer({ ...contractEnv(jobId, `s3://${bucket}/${key}`), ...s3Env });

    // Assess
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(
      `Job ${jobId} failed (invalid_job_spec): The job spec s3://${bucket}/${key} is for job ${otherJob} of team research, but this trainer runs job ${jobId} of team research\n`,
    );
  });

  it("the lifecycle tests' trainer reads its behaviour from the job's test-trainer.json, after the spec", async () => {
    // Prepare
    const jobId = newId('job');
    const key = `artifacts/research/${jobId}/spec.json`;
    await put(key, JSON.stringify(jobSpec(jobId, 10)));
    await put(
      `artifacts/research/${jobId}/test-trainer.json`,
      '[{"mode":"exit","exitCode":143},{"mode":"fail","exitCode":7}]',
    );

    // Act
    const second = await runTrainer(
      { ...contractEnv(jobId, `s3://${bucket}/${key}`), ...s3Env, AWS_BATCH_JOB_ATTEMPT: '2' },
      TEST_TRAINER,
    );

    // Assess
    expect(second.code).toBe(7);
    expect(second.stdout).toBe(`pid=${/pid=(\d+)/.exec(second.stdout)?.[1]}\nattempt=2 mode=fail\n`);
    expect(second.stderr).toContain('test trainer: failing as told, exit 7\n');
  });

  it("the lifecycle tests' trainer runs until SIGTERM when the job has no test-trainer.json, then exits 143", async () => {
    // Prepare
    const jobId = newId('job');
    const key = `artifacts/research/${jobId}/spec.json`;
    await put(key, JSON.stringify(jobSpec(jobId, 10)));
    let signalled = false;

    // Act
    const run = await runTrainer(
      { ...contractEnv(jobId, `s3://${bucket}/${key}`), ...s3Env },
      TEST_TRAINER,
      (stdout, pid) => {
        if (!signalled && stdout.includes('mode=run')) {
          signalled = true;
          process.kill(pid, 'SIGTERM');
        }
      },
    );

    // Assess
    expect(run.code).toBe(143);
    const pid = /^pid=(\d+)$/m.exec(run.stdout)?.[1];
    expect(run.stdout).toBe(`pid=${pid}\nattempt=1 mode=run\nsignal=SIGTERM pid=${pid}\n`);
  });
});

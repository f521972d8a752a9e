import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createDocumentClient,
  DynamoCheckpointStore,
  DynamoFileStore,
  DynamoJobEventStore,
  DynamoJobStore,
  type StoredJob,
} from '../../../lib/adapters';
import { isId, newId } from '../../../lib/core/ids';
import type { JobAttempt } from '../../../lib/core/schemas';
import { type RunningService, startDynamoDbLocal } from '../../../lib/local/services/dynamodb-local';
import { startOnFreePort } from '../../../lib/local/services/ports';
import { ensureTable } from '../../../lib/local/table';
import type { TrainerEnv } from '../../../trainer/src/runtime/env';
import { JobRecords } from '../../../trainer/src/runtime/records';
import { storedJob } from '../../helpers/stored-job';

const TABLE = 'whetstone-records-test';
const TEAM = 'research';
/** The trainer under test runs launch 2, attempt 3. */
const LAUNCH = 2;
const ATTEMPT = 3;

const AWS_ENV_NAMES = [
  'AWS_REGION',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
] as const;

function attemptEntry(attempt: number, overrides: Partial<JobAttempt> = {}): JobAttempt {
  return {
    launch: LAUNCH,
    attempt,
    compute_job_id: `local-${attempt}`,
    started_at: 1_700_000_100,
    stopped_at: null,
    exit_code: null,
    reason: null,
    instance_type: null,
    market: null,
    region: null,
    ...overrides,
  };
}

/** A running job as the control plane leaves it when the trainer starts. */
function runningJob(attempts: JobAttempt[]): StoredJob {
  const launch = {
    number: LAUNCH,
    state: 'submitted',
    compute_job_id: `local-${newId('job')}`,
    progress: null,
  } as const;
  return storedJob({ team: TEAM, launch, status: 'running', attempts });
}

function trainerEnv(jobId: string): TrainerEnv {
  return {
    jobId,
    team: TEAM,
    launch: LAUNCH,
    specUri: `s3://whetstone-bucket/teams/${TEAM}/jobs/${jobId}/spec.json`,
    spec: { bucket: 'whetstone-bucket', key: `teams/${TEAM}/jobs/${jobId}/spec.json` },
    table: TABLE,
    bucket: 'whetstone-bucket',
    environment: 'local',
    attempt: ATTEMPT,
  };
}

describe('JobRecords', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'whetstone-records-'));
  const savedEnv = Object.fromEntries(AWS_ENV_NAMES.map((name) => [name, process.env[name]]));
  let dynamodb: RunningService;
  let client: DynamoDBDocumentClient;
  let jobs: DynamoJobStore;

  beforeAll(async () => {
    // DynamoDB Local accepts any credentials; the SDK only needs some.
    delete process.env.AWS_SESSION_TOKEN;
    Object.assign(process.env, {
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
    });
    dynamodb = await startOnFreePort((port) => startDynamoDbLocal({ dataDir, port }));
    await ensureTable(dynamodb.endpoint, TABLE);
    client = createDocumentClient({ endpoint: dynamodb.endpoint, region: 'us-east-1' });
    jobs = new DynamoJobStore(client, TABLE);
  });
  afterAll(async () => {
    client?.destroy();
    await dynamodb?.stop();
    for (const [name, value] of Object.entries(savedEnv)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function seed(attempts: JobAttempt[] = [attemptEntry(ATTEMPT)]): Promise<StoredJob> {
    const job = runningJob(attempts);
    expect(await jobs.create(job)).toBe(true);
    return job;
  }

  /**
   * A client whose conditional job writes each let `rival` write first, as a control plane
   * moving the job at that moment would; every other request goes straight through.
   */
  function racedClient(rival: () => Promise<void>): {
    client: DynamoDBDocumentClient;
    jobWrites: () => number;
  } {
    const raced = createDocumentClient({ endpoint: dynamodb.endpoint, region: 'us-east-1' });
    const send = raced.send.bind(raced);
    let writes = 0;
    raced.send = (async (command: Parameters<typeof send>[0]) => {
      if (command instanceof PutCommand && command.input.ConditionExpression === 'version = :expected') {
        writes += 1;
        await rival();
      }
      return send(command);
    }) as typeof raced.send;
    return { client: raced, jobWrites: () => writes };
  }

  /** A write by someone else: the job's metadata records how many there were. */
  async function rivalWrite(team: string, jobId: string): Promise<void> {
    const current = (await jobs.get(team, jobId)) as StoredJob;
    const count = Number(current.job.metadata?.rival_writes ?? 0) + 1;
    const written = await jobs.replace({
      ...current,
      version: current.version + 1,
      job: { ...current.job, metadata: { rival_writes: String(count) } },
    });
    expect(written).toBe('written');
  }

  it('reads the job it runs', async () => {
    // Prepare
    const job = await seed();
    const records = new JobRecords(trainerEnv(job.job.id), client);

    // Act
    const read = await records.job();

    // Assess
    expect(read?.job.id).toBe(job.job.id);
    expect(read?.version).toBe(1);
    expect(read?.job.whetstone.attempts).toEqual([attemptEntry(ATTEMPT)]);
  });

  it('appends events carrying the launch and attempt in their data', async () => {
    // Prepare
    const job = await seed();
    const records = new JobRecords(trainerEnv(job.job.id), client);
    const before = Math.floor(Date.now() / 1000);

    // Act
    await records.event('info', 'Step 10/40: training loss 1.25', { step: 10, train_loss: 1.25 }, 'metrics');
    await records.event('warn', 'The checkpoint at step 5 cannot be resumed from: changed');

    // Assess
    const after = Math.floor(Date.now() / 1000);
    const listed = await new DynamoJobEventStore(client, TABLE).list(TEAM, job.job.id, { limit: 10 });
    const events = [...listed.items].sort((a, b) => (a.id < b.id ? -1 : 1));
    expect(events.map(({ id, created_at, ...rest }) => rest)).toEqual([
      {
        object: 'fine_tuning.job.event',
        level: 'info',
        message: 'Step 10/40: training loss 1.25',
        data: { step: 10, train_loss: 1.25, launch: LAUNCH, attempt: ATTEMPT },
        type: 'metrics',
      },
      {
        object: 'fine_tuning.job.event',
        level: 'warn',
        message: 'The checkpoint at step 5 cannot be resumed from: changed',
        data: { launch: LAUNCH, attempt: ATTEMPT },
        type: 'message',
      },
    ]);
    for (const event of events) {
      expect(isId('event', event.id)).toBe(true);
      expect(event.created_at).toBeGreaterThanOrEqual(before);
      expect(event.created_at).toBeLessThanOrEqual(after);
    }
  });

  it('records a checkpoint under the fine-tuned model’s checkpoint name', async () => {
    // Prepare
    const job = await seed();
    const records = new JobRecords(trainerEnv(job.job.id), client);

    // Act
    const checkpoint = await records.checkpoint(job.model.fine_tuned_name, {
      step: 12,
      metrics: { step: 12, train_loss: 0.875, train_mean_token_accuracy: 0.75 },
    });

    // Assess
    const listed = await new DynamoCheckpointStore(client, TABLE).list(TEAM, job.job.id, { limit: 10 });
    expect(listed.items).toEqual([checkpoint]);
    expect(checkpoint).toMatchObject({
      object: 'fine_tuning.job.checkpoint',
      fine_tuned_model_checkpoint: `${job.model.fine_tuned_name}:ckpt-step-12`,
      fine_tuning_job_id: job.job.id,
      step_number: 12,
      metrics: { step: 12, train_loss: 0.875, train_mean_token_accuracy: 0.75 },
    });
  });

  it('forgets the records of checkpoints no longer kept, and older records of a kept step', async () => {
    // Prepare: step 6 was recorded twice (an attempt resumed from before it), step 15 was only
    // ever recorded, never stored whole (its record outlives its index)
    const job = await seed();
    const records = new JobRecords(trainerEnv(job.job.id), client);
    const record = (step: number) =>
      records.checkpoint(job.model.fine_tuned_name, { step, metrics: { step, train_loss: 1 } });
    const written: Record<string, string> = {};
    for (const [name, step] of [
      ['3', 3],
      ['6 first', 6],
      ['6 again', 6],
      ['9', 9],
      ['12', 12],
      ['15', 15],
    ] as const) {
      written[name] = (await record(step)).id;
    }

    // Act
    const forgotten = await records.forgetCheckpoints([12, 9, 6]);
    const again = await records.forgetCheckpoints([12, 9, 6]);

    // Assess
    const listed = await new DynamoCheckpointStore(client, TABLE).list(TEAM, job.job.id, { limit: 10 });
    expect([forgotten, again]).toEqual([2, 0]);
    expect(listed.items.map((checkpoint) => checkpoint.id)).toEqual([
      written['15'],
      written['12'],
      written['9'],
      written['6 again'],
    ]);
  });

  it('forgets no record when no checkpoint is kept', async () => {
    // Prepare
    const job = await seed();
    const records = new JobRecords(trainerEnv(job.job.id), client);
    const kept = await records.checkpoint(job.model.fine_tuned_name, { step: 3, metrics: { step: 3 } });

    // Act
    const forgotten = await records.forgetCheckpoints([]);

    // Assess
    const listed = await new DynamoCheckpointStore(client, TABLE).list(TEAM, job.job.id, { limit: 10 });
    expect(forgotten).toBe(0);
    expect(listed.items).toEqual([kept]);
  });

  it('stores the result file so the Files API serves it', async () => {
    // Prepare
    const job = await seed();
    const records = new JobRecords(trainerEnv(job.job.id), client);
    const fileId = newId('file');

    // Act
    const file = await records.resultFile(fileId, 'step_metrics.csv', 1_234);

    // Assess
    const stored = await new DynamoFileStore(client, TABLE).get(TEAM, fileId);
    expect(stored).toEqual(file);
    expect(stored).toEqual({
      id: fileId,
      object: 'file',
      bytes: 1_234,
      created_at: file.created_at,
      expires_at: null,
      filename: 'step_metrics.csv',
      purpose: 'fine-tune-results',
      status: 'processed',
      status_details: null,
      whetstone: { validation: null },
    });
  });

  it('sets the job error without touching its status', async () => {
    // Prepare
    const job = await seed();
    const records = new JobRecords(trainerEnv(job.job.id), client);

    // Act
    await records.fail({
      code: 'invalid_training_file',
      message: 'The training file cannot be used: train.jsonl:3: "messages" must be a non-empty array',
      param: 'training_file',
    });

    // Assess
    const stored = (await jobs.get(TEAM, job.job.id)) as StoredJob;
    expect(stored.version).toBe(2);
    expect(stored.job.error).toEqual({
      code: 'invalid_training_file',
      message: 'The training file cannot be used: train.jsonl:3: "messages" must be a non-empty array',
      param: 'training_file',
    });
    expect(stored.job.status).toBe('running');
    expect(stored.job.finished_at).toBeNull();
    expect(stored.launch).toEqual(job.launch);
  });

  it('writes the instance facts on its own attempt entry, leaving the others as they were', async () => {
    // Prepare
    const earlier = attemptEntry(2, {
      stopped_at: 1_700_000_090,
      exit_code: 143,
      reason: 'Host EC2 was terminated',
      instance_type: 'g6.xlarge',
      market: 'spot',
      region: 'us-west-2',
    });
    const job = await seed([earlier, attemptEntry(ATTEMPT)]);
    const records = new JobRecords(trainerEnv(job.job.id), client);

    // Act
    const recorded = await records.attemptFacts({
      instanceType: 'g6e.xlarge',
      market: 'on-demand',
      region: 'us-east-1',
    });

    // Assess
    const stored = (await jobs.get(TEAM, job.job.id)) as StoredJob;
    expect(recorded).toBe(true);
    expect(stored.version).toBe(2);
    expect(stored.job.whetstone.attempts).toEqual([
      earlier,
      attemptEntry(ATTEMPT, { instance_type: 'g6e.xlarge', market: 'on-demand', region: 'us-east-1' }),
    ]);
  });

  it('writes nothing and answers false while the control plane has not created its attempt entry', async () => {
    // Prepare: only the previous attempt of this launch is recorded
    const job = await seed([attemptEntry(ATTEMPT - 1)]);
    const records = new JobRecords(trainerEnv(job.job.id), client);

    // Act
    const recorded = await records.attemptFacts({ instanceType: null, market: 'local', region: null });

    // Assess
    const stored = (await jobs.get(TEAM, job.job.id)) as StoredJob;
    expect(recorded).toBe(false);
    expect(stored.version).toBe(1);
    expect(stored.job.whetstone.attempts).toEqual([attemptEntry(ATTEMPT - 1)]);
  });

  it('applies its change again on top of a write that came between its read and its write', async () => {
    // Prepare
    const job = await seed();
    let rivals = 0;
    const raced = racedClient(async () => {
      if (rivals++ === 0) await rivalWrite(TEAM, job.job.id);
    });
    const records = new JobRecords(trainerEnv(job.job.id), raced.client);
    const seenVersions: number[] = [];

    // Act
    await records.update((current) => {
      seenVersions.push(current.version);
      return { ...current, job: { ...current.job, trained_tokens: 4_096 } };
    });

    // Assess
    raced.client.destroy();
    const stored = (await jobs.get(TEAM, job.job.id)) as StoredJob;
    expect(seenVersions).toEqual([1, 2]);
    expect(raced.jobWrites()).toBe(2);
    expect(stored.version).toBe(3);
    expect(stored.job.trained_tokens).toBe(4_096);
    expect(stored.job.metadata).toEqual({ rival_writes: '1' });
  });

  it('gives up after 20 tries that each lose to another writer', async () => {
    // Prepare
    const job = await seed();
    const raced = racedClient(() => rivalWrite(TEAM, job.job.id));
    const records = new JobRecords(trainerEnv(job.job.id), raced.client);

    // Act
    const failure = await records
      .update((current) => ({ ...current, job: { ...current.job, trained_tokens: 4_096 } }))
      .then(
        () => undefined,
        (error: unknown) => error,
      );

    // Assess
    raced.client.destroy();
    const stored = (await jobs.get(TEAM, job.job.id)) as StoredJob;
    expect((failure as Error).message).toBe(`Job ${job.job.id} kept changing under 20 tries to update it`);
    expect(raced.jobWrites()).toBe(20);
    expect(stored.version).toBe(21);
    expect(stored.job.trained_tokens).toBeNull();
    expect(stored.job.metadata).toEqual({ rival_writes: '20' });
  });

  it('writes nothing when the change has nothing to write', async () => {
    // Prepare
    const job = await seed();
    const records = new JobRecords(trainerEnv(job.job.id), client);

    // Act
    await records.update(() => undefined);

    // Assess
    expect((await jobs.get(TEAM, job.job.id))?.version).toBe(1);
  });

  it('refuses to update a job that does not exist', async () => {
    // Prepare
    const jobId = newId('job');
    const records = new JobRecords(trainerEnv(jobId), client);

    // Act
    const failure = await records.fail({ code: 'trainer_error', message: 'x', param: null }).then(
      () => undefined,
      (error: unknown) => error,
    );

    // Assess
    expect((failure as Error).message).toBe(`Job ${jobId} of team ${TEAM} does not exist`);
  });
});

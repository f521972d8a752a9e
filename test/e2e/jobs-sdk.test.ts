import { rmSync } from 'node:fs';
import OpenAI, { toFile } from 'openai';
import type { JobCreateParams } from 'openai/resources/fine-tuning/jobs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { newId } from '../../lib/core/ids';
import { fineTunedModelName } from '../../lib/core/models';
import {
  errorBodySchema,
  fileObjectSchema,
  fineTuningJobSchema,
  jobCheckpointSchema,
  jobEventSchema,
  listEnvelopeSchema,
  modelObjectSchema,
  type WhetstoneOptionsInput,
  whetstoneOptionsSchema,
} from '../../lib/core/schemas';
import { objectKeys } from '../../lib/core/storage';
import { trainerMetadata } from '../helpers/jobs';
import { tinyLlamaFiles } from '../helpers/models';
import { chatDataset, TEST_TRAINER } from '../helpers/platform';
import {
  processAlive,
  processesNaming,
  type RunningProduct,
  startProduct,
  trainerPids,
  uploadToBucket,
} from './product';
import { expectShape, pageBody, strictly } from './strict';

// Whetstone always sends its extension; the schema has it optional only for OpenAI's sake.
const strictJob = strictly(fineTuningJobSchema.required({ whetstone: true }));
const strictEvent = strictly(jobEventSchema);
const strictCheckpoint = strictly(jobCheckpointSchema);
const strictFile = strictly(fileObjectSchema);
const strictModel = strictly(modelObjectSchema);
const strictError = strictly(errorBodySchema.shape.error);
const strictJobList = strictly(listEnvelopeSchema(fineTuningJobSchema));
const strictEventList = strictly(listEnvelopeSchema(jobEventSchema));
const strictCheckpointList = strictly(listEnvelopeSchema(jobCheckpointSchema));
// OpenAI's model list is `{object, data}` with no cursor; lib/core declares only its items.
const strictModelList = strictly(z.object({ object: z.literal('list'), data: z.array(modelObjectSchema) }));

/** Every key OpenAI's published job object has, the optional ones included, plus Whetstone's extension. */
const JOB_KEYS = [
  'created_at',
  'error',
  'estimated_finish',
  'fine_tuned_model',
  'finished_at',
  'hyperparameters',
  'id',
  'integrations',
  'metadata',
  'method',
  'model',
  'object',
  'organization_id',
  'result_files',
  'seed',
  'status',
  'trained_tokens',
  'training_file',
  'validation_file',
  'whetstone',
];

const MODEL = 'tiny-llama';
const TEAM = 'default';

/** The SDK sends body fields it does not know as they are; Whetstone's options ride in `whetstone`. */
type WhetstoneJobCreateParams = JobCreateParams & { whetstone?: WhetstoneOptionsInput };

/** The job object as Whetstone sends it: OpenAI's fields, `paused`, and the `whetstone` extension. */
type Job = z.infer<typeof strictJob>;

// The steps build on each other (one product, one team), so they run in order and share these.
describe('fine-tuning jobs through the official openai SDK, with `whet start` running', {
  timeout: 60_000,
}, () => {
  let product: RunningProduct;
  let client: OpenAI;
  let trainingFile: string;
  let pausable: Job;
  let succeeding: Job;
  let fillers: Job[];

  beforeAll(async () => {
    product = await startProduct({
      env: { WHETSTONE_TRAINER_ENTRY: TEST_TRAINER, WHETSTONE_LOCAL_CONCURRENCY: '2' },
    });
    // As an operator adds a base model: its files in the bucket, then registered by the owner.
    await uploadToBucket(product, objectKeys.model(MODEL), tinyLlamaFiles());
    const registered = await fetch(`${product.url}/v1/whetstone/models`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${product.apiKey}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ id: MODEL }),
    });
    if (registered.status !== 200) {
      throw new Error(`registering ${MODEL}: ${registered.status} ${await registered.text()}`);
    }
    expectShape(strictModel, await registered.json());
    // Exactly what an app changes to move from OpenAI to Whetstone: the base URL and the key.
    client = new OpenAI({ baseURL: `${product.url}/v1`, apiKey: product.apiKey });
  });

  afterAll(async () => {
    if (!product) return;
    await product.stop();
    rmSync(product.dataDir, { recursive: true, force: true });
  });

  async function retrieve(jobId: string): Promise<Job> {
    return expectShape(strictJob, await client.fineTuning.jobs.retrieve(jobId));
  }

  async function waitForStatus(jobId: string, ...statuses: Job['status'][]): Promise<Job> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const job = await retrieve(jobId);
      if (statuses.includes(job.status)) return job;
      if (Date.now() > deadline) throw new Error(`job ${jobId} is still ${job.status}:\n${product.output()}`);
      await new Promise((resolveWait) => setTimeout(resolveWait, 200));
    }
  }

  async function eventMessages(jobId: string): Promise<string[]> {
    const page = await client.fineTuning.jobs.listEvents(jobId, { limit: 100 });
    return expectShape(strictEventList, pageBody(page)).data.map((event) => event.message);
  }

  /** The test trainer's own event: once there, a SIGTERM reaches a trainer that can checkpoint. */
  async function waitForTrainerStarts(jobId: string, starts: number): Promise<void> {
    const deadline = Date.now() + 30_000;
    const isStart = (message: string) => message.startsWith('Test trainer attempt 1 started');
    while ((await eventMessages(jobId)).filter(isStart).length < starts) {
      if (Date.now() > deadline)
        throw new Error(`no trainer start ${starts} for ${jobId}:\n${product.output()}`);
      await new Promise((resolveWait) => setTimeout(resolveWait, 200));
    }
  }

  async function create(params: WhetstoneJobCreateParams): Promise<Job> {
    return expectShape(strictJob, await client.fineTuning.jobs.create(params));
  }

  it('uploads a training file', async () => {
    // Prepare
    const content = chatDataset(10);

    // Act
    const file = await client.files.create({
      file: await toFile(Buffer.from(content), 'train.jsonl'),
      purpose: 'fine-tune',
    });

    // Assess
    expectShape(strictFile, file);
    expect(file).toMatchObject({
      object: 'file',
      bytes: Buffer.byteLength(content),
      filename: 'train.jsonl',
      purpose: 'fine-tune',
      status: 'processed',
      status_details: null,
    });
    trainingFile = file.id;
  });

  it("creates jobs with OpenAI's parameters and Whetstone's options, and retrieves one", async () => {
    // Prepare
    const options: WhetstoneOptionsInput = {
      training_method: 'lora',
      lora: { rank: 4, alpha: 8 },
      max_seq_length: 64,
      market: 'on-demand',
    };
    const hyperparameters = { batch_size: 'auto' as const, learning_rate_multiplier: 0.5, n_epochs: 2 };
    const metadata = { ...trainerMetadata({ mode: 'run' }), role: 'pausable' };

    // Act
    pausable = await create({
      model: MODEL,
      training_file: trainingFile,
      method: { type: 'supervised', supervised: { hyperparameters } },
      suffix: 'pausable',
      seed: 42,
      metadata,
      whetstone: options,
    });
    succeeding = await create({
      model: MODEL,
      training_file: trainingFile,
      suffix: 'sdk-success',
      metadata: trainerMetadata({ mode: 'succeed' }),
    });
    fillers = [];
    for (const index of [1, 2, 3]) {
      fillers.push(
        await create({
          model: MODEL,
          training_file: trainingFile,
          suffix: `filler-${index}`,
          metadata: { ...trainerMetadata({ mode: 'run' }), role: 'filler' },
        }),
      );
    }
    const retrieved = await retrieve(pausable.id);

    // Assess
    expect(Object.keys(pausable).sort()).toEqual(JOB_KEYS);
    expect(pausable).toEqual({
      id: expect.stringMatching(/^ftjob-/),
      object: 'fine_tuning.job',
      created_at: expect.any(Number),
      error: null,
      fine_tuned_model: null,
      finished_at: null,
      hyperparameters,
      model: MODEL,
      organization_id: TEAM,
      result_files: [],
      seed: 42,
      status: expect.stringMatching(/^(queued|running)$/),
      trained_tokens: null,
      training_file: trainingFile,
      validation_file: null,
      estimated_finish: null,
      integrations: [],
      metadata,
      method: { type: 'supervised', supervised: { hyperparameters } },
      whetstone: {
        options: whetstoneOptionsSchema.parse(options),
        desired_status: 'running',
        attempts: expect.any(Array),
      },
    });
    expect(Math.abs(pausable.created_at - Date.now() / 1000)).toBeLessThan(60);
    expect(succeeding).toMatchObject({
      hyperparameters: { batch_size: 'auto', learning_rate_multiplier: 'auto', n_epochs: 'auto' },
      seed: expect.any(Number),
      whetstone: { options: whetstoneOptionsSchema.parse({}) },
    });
    expect(retrieved).toEqual({
      ...pausable,
      status: expect.stringMatching(/^(queued|running)$/),
      whetstone: { ...pausable.whetstone, attempts: expect.any(Array) },
    });
  });

  it('lists jobs newest first, auto-paginating past one page, and filters them by metadata', async () => {
    // Prepare
    const created = [pausable, succeeding, ...fillers].map((job) => job.id).reverse();

    // Act
    const listed: Job[] = [];
    for await (const job of client.fineTuning.jobs.list({ limit: 2 })) {
      listed.push(expectShape(strictJob, job));
    }
    const pages: unknown[] = [];
    for await (const page of (await client.fineTuning.jobs.list({ limit: 2 })).iterPages()) {
      pages.push(pageBody(page));
    }
    const filtered: string[] = [];
    for await (const job of client.fineTuning.jobs.list({ metadata: { role: 'filler' } })) {
      filtered.push(expectShape(strictJob, job).id);
    }

    // Assess
    expect(listed.map((job) => job.id)).toEqual(created);
    for (const page of pages) expectShape(strictJobList, page);
    expect(pages).toEqual([
      expect.objectContaining({ first_id: created[0], last_id: created[1], has_more: true }),
      expect.objectContaining({ first_id: created[2], last_id: created[3], has_more: true }),
      expect.objectContaining({ first_id: created[4], last_id: created[4], has_more: false }),
    ]);
    expect(filtered).toEqual(fillers.map((job) => job.id).reverse());
  });

  it('cancels jobs that are queued or just starting', async () => {
    // Act
    const cancelling = await Promise.all(
      fillers.map(async (job) => expectShape(strictJob, await client.fineTuning.jobs.cancel(job.id))),
    );
    const cancelled = await Promise.all(fillers.map((job) => waitForStatus(job.id, 'cancelled')));

    // Assess
    expect(cancelling.map((job) => job.whetstone.desired_status)).toEqual([
      'cancelled',
      'cancelled',
      'cancelled',
    ]);
    expect(cancelled.map((job) => [job.id, job.status, job.fine_tuned_model])).toEqual(
      fillers.map((job) => [job.id, 'cancelled', null]),
    );
    for (const job of cancelled) expect(job.finished_at).toBeGreaterThanOrEqual(job.created_at);
  });

  it('pauses a running job at a checkpoint, lists its checkpoints and events, resumes and cancels it', async () => {
    // Prepare
    await waitForTrainerStarts(pausable.id, 1);
    const checkpointName = fineTunedModelName({
      baseModel: MODEL,
      team: TEAM,
      suffix: 'pausable',
      jobId: pausable.id,
    });

    // Act
    const pausing = expectShape(strictJob, await client.fineTuning.jobs.pause(pausable.id));
    const paused = await waitForStatus(pausable.id, 'paused');
    const checkpoints = [];
    for await (const checkpoint of client.fineTuning.jobs.checkpoints.list(pausable.id)) {
      checkpoints.push(checkpoint);
    }
    const checkpointPage = pageBody(await client.fineTuning.jobs.checkpoints.list(pausable.id));
    const events = [];
    for await (const event of client.fineTuning.jobs.listEvents(pausable.id, { limit: 2 })) {
      events.push(expectShape(strictEvent, event));
    }
    const eventPages: unknown[] = [];
    for await (const page of (
      await client.fineTuning.jobs.listEvents(pausable.id, { limit: 2 })
    ).iterPages()) {
      eventPages.push(pageBody(page));
    }
    const resuming = expectShape(strictJob, await client.fineTuning.jobs.resume(pausable.id));
    await waitForTrainerStarts(pausable.id, 2);
    const cancelling = expectShape(strictJob, await client.fineTuning.jobs.cancel(pausable.id));
    const cancelled = await waitForStatus(pausable.id, 'cancelled');

    // Assess
    expect(pausing).toMatchObject({ status: 'running', whetstone: { desired_status: 'paused' } });
    expect(paused.whetstone.attempts).toEqual([
      expect.objectContaining({ launch: 1, attempt: 1, exit_code: 143 }),
    ]);

    expect(checkpoints).toHaveLength(1);
    const [checkpoint] = checkpoints;
    expectShape(strictCheckpoint, checkpoint);
    const step = checkpoint?.step_number ?? 0;
    expect(checkpoint).toEqual({
      id: expect.stringMatching(/^ftckpt_/),
      object: 'fine_tuning.job.checkpoint',
      created_at: expect.any(Number),
      fine_tuned_model_checkpoint: `${checkpointName}:ckpt-step-${step}`,
      fine_tuning_job_id: pausable.id,
      step_number: step,
      metrics: { step, train_loss: 1 / step, train_mean_token_accuracy: 0.5 },
    });
    expect(step).toBeGreaterThanOrEqual(1);
    expectShape(strictCheckpointList, checkpointPage);
    expect(checkpointPage).toEqual({
      object: 'list',
      data: checkpoints,
      first_id: checkpoint?.id,
      last_id: checkpoint?.id,
      has_more: false,
    });

    for (const page of eventPages) expectShape(strictEventList, page);
    const ids = events.map((event) => event.id);
    expect(ids.every((id) => id.startsWith('ftevent-'))).toBe(true);
    // Newest first, each event once across the pages.
    expect(ids).toEqual([...new Set(ids)].sort().reverse());
    expect(eventPages).toHaveLength(Math.ceil(events.length / 2));
    const messages = events.map((event) => event.message).reverse();
    expect(messages.slice(0, 3)).toEqual([
      `Created fine-tuning job: ${pausable.id}`,
      `Validating training file: ${trainingFile}`,
      'Job queued.',
    ]);
    expect(messages).toContain('Fine-tuning job started.');
    const trainerStart = messages.indexOf('Test trainer attempt 1 started (run).');
    expect(trainerStart).toBeGreaterThan(0);
    expect(messages.indexOf('Pause requested.')).toBeGreaterThan(trainerStart);

    expect(resuming).toMatchObject({
      status: expect.stringMatching(/^(queued|running)$/),
      whetstone: { desired_status: 'running' },
    });
    expect(cancelling.whetstone.desired_status).toBe('cancelled');
    expect(cancelled.finished_at).toBeGreaterThanOrEqual(cancelled.created_at);
    expect(cancelled.whetstone.attempts.map((attempt) => [attempt.launch, attempt.attempt])).toEqual([
      [1, 1],
      [2, 1],
    ]);
  });

  it('finishes a job that succeeds with its fine-tuned model, which the models API returns', async () => {
    // Prepare
    const name = fineTunedModelName({
      baseModel: MODEL,
      team: TEAM,
      suffix: 'sdk-success',
      jobId: succeeding.id,
    });

    // Act
    const job = await waitForStatus(succeeding.id, 'succeeded', 'failed', 'cancelled');
    const model = await client.models.retrieve(name);
    const models = await client.models.list();

    // Assess
    expect(job).toMatchObject({ status: 'succeeded', fine_tuned_model: name, error: null });
    expect(job.finished_at).toBeGreaterThanOrEqual(job.created_at);
    expectShape(strictModel, model);
    expect(model).toEqual({
      id: name,
      object: 'model',
      created: expect.any(Number),
      owned_by: TEAM,
      whetstone: {
        kind: 'fine-tuned',
        architecture: 'LlamaForCausalLM',
        base_model: MODEL,
        job_id: succeeding.id,
      },
    });
    expectShape(strictModelList, pageBody(models));
    expect(models.data.map((listed) => listed.id)).toEqual(expect.arrayContaining([MODEL, name]));
  });

  it('raises BadRequestError naming the parameter for an unknown training file', async () => {
    // Prepare
    const missing = newId('file');

    // Act
    const error = await client.fineTuning.jobs
      .create({ model: MODEL, training_file: missing })
      .catch((caught: unknown) => caught);

    // Assess
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    const badRequest = error as InstanceType<typeof OpenAI.BadRequestError>;
    expect(badRequest.status).toBe(400);
    expectShape(strictError, badRequest.error);
    expect(badRequest.error).toEqual({
      message: `invalid training_file: no file ${missing} exists for this team.`,
      type: 'invalid_request_error',
      param: 'training_file',
      code: 'invalid_file',
    });
    expect(badRequest.param).toBe('training_file');
    expect(badRequest.code).toBe('invalid_file');
  });

  it('raises NotFoundError for an unknown job and ConflictError for cancelling a finished one', async () => {
    // Prepare
    const missing = newId('job');

    // Act
    const notFound = await client.fineTuning.jobs.retrieve(missing).catch((caught: unknown) => caught);
    const conflict = await client.fineTuning.jobs.cancel(succeeding.id).catch((caught: unknown) => caught);

    // Assess
    expect(notFound).toBeInstanceOf(OpenAI.NotFoundError);
    const missingJob = notFound as InstanceType<typeof OpenAI.NotFoundError>;
    expectShape(strictError, missingJob.error);
    expect(missingJob.error).toEqual({
      message: `No fine-tuning job found with id ${missing}.`,
      type: 'invalid_request_error',
      param: 'fine_tuning_job_id',
      code: 'not_found',
    });
    expect(conflict).toBeInstanceOf(OpenAI.ConflictError);
    const refused = conflict as InstanceType<typeof OpenAI.ConflictError>;
    expectShape(strictError, refused.error);
    expect(refused.status).toBe(409);
    expect(refused.error).toEqual({
      message: `Job ${succeeding.id} has already succeeded; a finished job cannot be cancelled.`,
      type: 'invalid_request_error',
      param: null,
      code: 'job_finished',
    });
  });

  it('stops on SIGTERM with every child process gone', async () => {
    // Prepare
    const { dataDir } = product;

    // Act
    const exitCode = await product.stop();

    // Assess
    expect(exitCode).toBe(0);
    expect(processesNaming(dataDir)).toEqual([]);
    expect(trainerPids(dataDir).filter(processAlive)).toEqual([]);
  });
});

import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { WhetstoneApiError, WhetstoneClient } from '../../lib/client';
import {
  fineTuningJobSchema,
  jobCheckpointSchema,
  jobEventSchema,
  listEnvelopeSchema,
  modelDeletedSchema,
  modelObjectSchema,
} from '../../lib/core/schemas';
import { objectKeys } from '../../lib/core/storage';
import {
  ensureTinyModel,
  hasStatus,
  type TrainerBehaviour,
  trainerMetadata,
  trainerStarted,
  uploadTrainingFile,
  waitForJob,
} from '../helpers/jobs';
import { tinyLlamaFiles, uploadModelFiles } from '../helpers/models';
import { startTestPlatform, type TestPlatform } from '../helpers/platform';

/**
 * The client's fine-tuning and model methods against the real handlers; the test trainer does
 * what each job's metadata tells it. Every test works in a team of its own.
 */
describe('WhetstoneClient fine-tuning jobs and models', () => {
  let platform: TestPlatform;
  let owner: WhetstoneClient;

  beforeAll(async () => {
    platform = await startTestPlatform();
    owner = new WhetstoneClient({ url: platform.url, apiKey: platform.ownerKey });
    await ensureTinyModel(platform);
  });
  afterAll(async () => platform?.stop());

  async function team(name: string): Promise<{ client: WhetstoneClient; key: string; file: string }> {
    const key = await platform.createTeamKey(name, 'admin');
    return {
      client: new WhetstoneClient({ url: platform.url, apiKey: key }),
      key,
      file: await uploadTrainingFile(platform, key),
    };
  }

  function start(
    client: WhetstoneClient,
    file: string,
    behaviour: TrainerBehaviour | TrainerBehaviour[],
    metadata: Record<string, string> = {},
  ) {
    return client.fineTuning.jobs.create({
      model: 'tiny-llama',
      training_file: file,
      metadata: { ...metadata, ...trainerMetadata(behaviour) },
    });
  }

  it('creates a job with every kind of option, and a retried create gives the same job', async () => {
    // Prepare
    const { client, file } = await team('creators');
    const params = {
      model: 'tiny-llama',
      training_file: file,
      suffix: 'support-bot',
      seed: 42,
      method: {
        type: 'supervised' as const,
        supervised: { hyperparameters: { n_epochs: 2, batch_size: 'auto' as const } },
      },
      metadata: { ...trainerMetadata({ mode: 'fail' }), owner: 'ops' },
      whetstone: { lora: { rank: 4 }, market: 'on-demand' as const, max_cost_usd: 12.5 },
    };

    // Act
    const created = await client.fineTuning.jobs.create(params, { idempotencyKey: 'support-bot-1' });
    const retried = await client.fineTuning.jobs.create(params, { idempotencyKey: 'support-bot-1' });

    // Assess
    expect(fineTuningJobSchema.strict().parse(created)).toMatchObject({
      object: 'fine_tuning.job',
      model: 'tiny-llama',
      organization_id: 'creators',
      training_file: file,
      validation_file: null,
      seed: 42,
      hyperparameters: { n_epochs: 2, batch_size: 'auto', learning_rate_multiplier: 'auto' },
      metadata: params.metadata,
      whetstone: {
        options: {
          training_method: 'lora',
          lora: { rank: 4, alpha: 16 },
          gpu_type: 'none',
          market: 'on-demand',
          max_cost_usd: 12.5,
        },
        desired_status: 'running',
      },
    });
    expect(['queued', 'running']).toContain(created.status);
    expect(retried.id).toBe(created.id);
    expect((await client.fineTuning.jobs.list()).data.map((job) => job.id)).toEqual([created.id]);
  });

  it('lists jobs newest first, filtered by metadata, a page at a time', async () => {
    // Prepare
    const { client, file } = await team('listers');
    const first = await start(client, file, { mode: 'fail' }, { batch: 'nightly' });
    const second = await start(client, file, { mode: 'fail' }, { batch: 'nightly' });
    await start(client, file, { mode: 'fail' }, { batch: 'weekly' });
    const third = await start(client, file, { mode: 'fail' }, { batch: 'nightly' });

    // Act
    const page = await client.fineTuning.jobs.list({ metadata: { batch: 'nightly' }, limit: 2 });
    const next = await client.fineTuning.jobs.list({
      metadata: { batch: 'nightly' },
      limit: 2,
      after: page.last_id ?? '',
    });
    const both = await client.fineTuning.jobs.list({ metadata: { batch: 'nightly', owner: 'nobody' } });

    // Assess
    const envelope = listEnvelopeSchema(fineTuningJobSchema.strict()).strict();
    expect(envelope.parse(page)).toMatchObject({
      data: [{ id: third.id }, { id: second.id }],
      first_id: third.id,
      last_id: second.id,
      has_more: true,
    });
    expect(envelope.parse(next)).toMatchObject({ data: [{ id: first.id }], has_more: false });
    expect(both.data).toEqual([]);
  });

  it('retrieves a finished job, reads its events, and gets job_finished for a cancel', async () => {
    // Prepare
    const { client, key, file } = await team('finishers');
    const created = await start(client, file, { mode: 'fail', exitCode: 3 });
    await waitForJob(platform, key, created.id, hasStatus('failed'));

    // Act
    const job = await client.fineTuning.jobs.retrieve(created.id);
    const events = await client.fineTuning.jobs.listEvents(created.id, { limit: 100 });
    const newest = await client.fineTuning.jobs.listEvents(created.id, { limit: 1 });
    const cancel = await client.fineTuning.jobs.cancel(created.id).catch((error: unknown) => error);

    // Assess
    expect(job).toMatchObject({
      id: created.id,
      status: 'failed',
      error: { code: 'training_failed', param: null },
    });
    const messages = listEnvelopeSchema(jobEventSchema.strict())
      .strict()
      .parse(events)
      .data.map((event) => event.message)
      .reverse();
    expect(messages.slice(0, 2)).toEqual([
      `Created fine-tuning job: ${created.id}`,
      `Validating training file: ${file}`,
    ]);
    expect(messages.at(-1)).toBe(`The job failed: ${job.error?.message}`);
    expect(newest).toMatchObject({ data: [events.data[0]], has_more: true });
    expect(cancel).toBeInstanceOf(WhetstoneApiError);
    expect({ ...(cancel as WhetstoneApiError), message: (cancel as Error).message }).toEqual({
      name: 'WhetstoneApiError',
      status: 409,
      type: 'invalid_request_error',
      code: 'job_finished',
      param: null,
      message: `Job ${created.id} has already failed; a finished job cannot be cancelled.`,
    });
  });

  it('pauses a running job at a checkpoint, lists it, resumes and cancels', async () => {
    // Prepare
    const { client, key, file } = await team('pausers');
    const created = await start(client, file, { mode: 'run' });
    await trainerStarted(platform, key, created.id);

    // Act
    const pausing = await client.fineTuning.jobs.pause(created.id);
    await waitForJob(platform, key, created.id, hasStatus('paused'));
    const checkpoints = await client.fineTuning.jobs.listCheckpoints(created.id);
    const resumed = await client.fineTuning.jobs.resume(created.id, { idempotencyKey: 'resume-1' });
    const cancelling = await client.fineTuning.jobs.cancel(created.id);
    const cancelled = await waitForJob(platform, key, created.id, hasStatus('cancelled'));

    // Assess
    // Each reply reads the job after acting, so the trainer may already have stopped or started.
    expect(pausing).toMatchObject({
      status: expect.stringMatching(/^(running|paused)$/),
      whetstone: { desired_status: 'paused' },
    });
    const listed = listEnvelopeSchema(jobCheckpointSchema.strict()).strict().parse(checkpoints);
    expect(listed.data).toHaveLength(1);
    expect(listed.data[0]).toMatchObject({
      object: 'fine_tuning.job.checkpoint',
      fine_tuning_job_id: created.id,
      fine_tuned_model_checkpoint: expect.stringMatching(
        /^ft:tiny-llama:pausers::[0-9a-z]{26}:ckpt-step-\d+$/,
      ),
    });
    expect(resumed).toMatchObject({
      status: expect.stringMatching(/^(queued|running)$/),
      whetstone: { desired_status: 'running' },
    });
    expect(cancelling.whetstone?.desired_status).toBe('cancelled');
    expect(cancelled.finished_at).toEqual(expect.any(Number));
  });

  it('lists, retrieves and deletes a fine-tuned model by its name with colons', async () => {
    // Prepare
    const { client, key, file } = await team('modelers');
    const created = await client.fineTuning.jobs.create({
      model: 'tiny-llama',
      training_file: file,
      suffix: 'v1',
      metadata: trainerMetadata({ mode: 'succeed' }),
    });
    const { fine_tuned_model: name } = await waitForJob(platform, key, created.id, hasStatus('succeeded'));

    // Act
    const listed = await client.models.list();
    const retrieved = await client.models.retrieve(name ?? '');
    const deleted = await client.models.delete(name ?? '');
    const gone = await client.models.retrieve(name ?? '').catch((error: unknown) => error);
    const base = await client.models.delete('tiny-llama').catch((error: unknown) => error);

    // Assess
    expect(name).toBe(`ft:tiny-llama:modelers:v1:${created.id.slice('ftjob-'.length).toLowerCase()}`);
    const models = z.strictObject({ object: z.literal('list'), data: z.array(modelObjectSchema.strict()) });
    expect(
      models.parse(listed).data.map((model) => [model.id, model.owned_by, model.whetstone?.kind]),
    ).toEqual([
      ['tiny-llama', 'whetstone', 'base'],
      [name, 'modelers', 'fine-tuned'],
    ]);
    expect(retrieved).toEqual(listed.data[1]);
    expect(modelDeletedSchema.strict().parse(deleted)).toEqual({ id: name, object: 'model', deleted: true });
    expect(gone).toMatchObject({ status: 404, code: 'model_not_found', param: 'model' });
    expect(base).toMatchObject({
      status: 403,
      param: 'model',
      message: 'You cannot delete base model tiny-llama.',
    });
  });

  it('registers base models from their default prefix or a given one', async () => {
    // Prepare
    await uploadModelFiles(platform, objectKeys.model('tiny-default'), tinyLlamaFiles());
    await uploadModelFiles(platform, 'models/shared/tiny-elsewhere/', tinyLlamaFiles());

    // Act
    const registered = await owner.models.register({ id: 'tiny-default' }, { idempotencyKey: 'register-1' });
    const elsewhere = await owner.models.register({
      id: 'tiny-elsewhere',
      prefix: 'models/shared/tiny-elsewhere/',
    });
    const again = await owner.models.register({ id: 'tiny-default' }).catch((error: unknown) => error);

    // Assess
    expect(modelObjectSchema.strict().parse(registered)).toEqual({
      id: 'tiny-default',
      object: 'model',
      created: expect.any(Number),
      owned_by: 'whetstone',
      whetstone: { kind: 'base', architecture: 'LlamaForCausalLM', base_model: null, job_id: null },
    });
    expect(elsewhere).toMatchObject({ id: 'tiny-elsewhere', whetstone: { kind: 'base' } });
    expect(await owner.models.retrieve('tiny-elsewhere')).toEqual(elsewhere);
    expect(again).toMatchObject({ status: 409, code: 'model_exists', param: 'id' });
  });

  it('refuses an answer that is not the object the route promises, naming the field', async () => {
    // Prepare
    const impostor = createServer((_request, response) => {
      response.writeHead(200, { 'Content-Type': 'application/json' });
      response.end(JSON.stringify({ id: 'ftjob-x', object: 'fine_tuning.job', status: 'sleeping' }));
    });
    await new Promise<void>((resolve) => impostor.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(impostor.address() as AddressInfo).port}`;

    // Act
    const failure = await new WhetstoneClient({ url, apiKey: 'whet_any' }).fineTuning.jobs
      .retrieve('ftjob-x')
      .catch((error: unknown) => error);
    await new Promise<void>((resolve) => impostor.close(() => resolve()));

    // Assess
    expect(failure).toBeInstanceOf(WhetstoneApiError);
    expect(failure).toMatchObject({
      status: 200,
      type: 'api_error',
      code: null,
      param: null,
      message: `GET ${url}/v1/fine_tuning/jobs/ftjob-x answered with a body that is not a fine-tuning job at created_at: Invalid input: expected number, received undefined`,
    });
  });
});

/** Running as the compute sees it is not yet training: the trainer says when it has started. */

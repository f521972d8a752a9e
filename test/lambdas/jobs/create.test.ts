import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ErrorBody, type FineTuningJob, fineTuningJobSchema } from '../../../lib/core/schemas';
import { createJob, ensureTinyModel, trainerMetadata, uploadTrainingFile } from '../../helpers/jobs';
import { fileForm, startTestPlatform, type TestPlatform } from '../../helpers/platform';

describe('POST /v1/fine_tuning/jobs', () => {
  let platform: TestPlatform;
  let key: string;
  let trainingFile: string;

  beforeAll(async () => {
    platform = await startTestPlatform();
    await ensureTinyModel(platform);
    key = await platform.createTeamKey('acme', 'member');
    trainingFile = await uploadTrainingFile(platform, key);
  });
  afterAll(() => platform?.stop());

  async function refusal(
    body: Record<string, unknown>,
  ): Promise<{ status: number; error: ErrorBody['error'] }> {
    const response = await createJob(platform, key, body);
    return { status: response.status, error: ((await response.json()) as ErrorBody).error };
  }

  it('creates a queued job with OpenAI fields, resolved Whetstone options and its spec in S3', async () => {
    // Act
    const response = await createJob(platform, key, {
      model: 'tiny-llama',
      training_file: trainingFile,
      method: { type: 'supervised', supervised: { hyperparameters: { n_epochs: 2, batch_size: 'auto' } } },
      suffix: 'billing-bot',
      seed: 42,
      metadata: { ...trainerMetadata({ mode: 'run' }), owner: 'ana' },
      whetstone: { training_method: 'lora', lora: { rank: 4 }, max_seq_length: 512, market: 'on-demand' },
    });

    // Assess
    expect(response.status).toBe(200);
    const job = fineTuningJobSchema.parse(await response.json()) as FineTuningJob;
    expect(job).toMatchObject({
      object: 'fine_tuning.job',
      model: 'tiny-llama',
      organization_id: 'acme',
      training_file: trainingFile,
      validation_file: null,
      seed: 42,
      error: null,
      fine_tuned_model: null,
      finished_at: null,
      trained_tokens: null,
      result_files: [],
      hyperparameters: { n_epochs: 2, batch_size: 'auto', learning_rate_multiplier: 'auto' },
      method: {
        type: 'supervised',
        supervised: {
          hyperparameters: { n_epochs: 2, batch_size: 'auto', learning_rate_multiplier: 'auto' },
        },
      },
      metadata: { owner: 'ana' },
    });
    expect(['queued', 'running']).toContain(job.status);
    expect(job.id).toMatch(/^ftjob-[0-9A-Z]{26}$/);
    expect(job.whetstone?.options).toMatchObject({
      training_method: 'lora',
      lora: { rank: 4, alpha: 16, dropout: 0.05, target_modules: ['q_proj', 'k_proj', 'v_proj', 'o_proj'] },
      max_seq_length: 512,
      market: 'on-demand',
      gpu_type: 'none',
    });
    expect(job.whetstone?.desired_status).toBe('running');
    const objects = await platform.listObjects();
    expect(objects).toContain(`artifacts/acme/${job.id}/spec.json`);
  });

  it('takes the deprecated top-level hyperparameters', async () => {
    // Act
    const response = await createJob(platform, key, {
      model: 'tiny-llama',
      training_file: trainingFile,
      hyperparameters: { learning_rate_multiplier: 0.5 },
      metadata: trainerMetadata({ mode: 'fail' }),
    });

    // Assess
    expect(response.status).toBe(200);
    const job = (await response.json()) as FineTuningJob;
    expect(job.hyperparameters).toEqual({
      batch_size: 'auto',
      learning_rate_multiplier: 0.5,
      n_epochs: 'auto',
    });
  });

  it.each([
    [
      { training_file: 'file-does-not-exist' },
      400,
      'training_file',
      'invalid training_file: no file file-does-not-exist exists for this team.',
    ],
    [
      { validation_file: 'file-01J0000000000000000000000A' },
      400,
      'validation_file',
      'invalid validation_file: no file file-01J0000000000000000000000A exists for this team.',
    ],
    [{ model: 'gpt-4o' }, 400, 'model', 'The model `gpt-4o` does not exist or you do not have access to it.'],
    [{ method: { type: 'dpo' } }, 400, 'method.type', "'dpo' fine-tuning is not supported; use 'supervised'"],
    [{ hyperparameters: { n_epochs: 0 } }, 400, 'hyperparameters.n_epochs', null],
    [{ suffix: 'has:colon' }, 400, 'suffix', null],
    [
      { whetstone: { training_method: 'partial' } },
      400,
      'whetstone.partial',
      "Missing required body parameter: 'whetstone.partial'.",
    ],
    [{ whetstone: { gpu_type: 'tpu' } }, 400, 'whetstone.gpu_type', null],
    [{ integrations: [{ type: 'wandb' }] }, 400, 'integrations', null],
    [{ surprise: true }, 400, 'surprise', null],
  ])('refuses %j (%i, param %s)', async (change, status, param, message) => {
    // Act
    const { status: actual, error } = await refusal({
      model: 'tiny-llama',
      training_file: trainingFile,
      ...change,
    });

    // Assess
    expect(actual).toBe(status);
    expect(error.param).toBe(param);
    if (message) expect(error.message).toContain(message);
  });

  it("refuses another team's file exactly as a file that does not exist", async () => {
    // Prepare
    const otherKey = await platform.createTeamKey('globex', 'member');
    const foreign = await uploadTrainingFile(platform, otherKey);

    // Act
    const { status, error } = await refusal({ model: 'tiny-llama', training_file: foreign });

    // Assess
    expect(status).toBe(400);
    expect(error).toEqual({
      message: `invalid training_file: no file ${foreign} exists for this team.`,
      type: 'invalid_request_error',
      param: 'training_file',
      code: 'invalid_file',
    });
  });

  it('refuses a file that failed validation, saying why', async () => {
    // Prepare
    const response = await platform.call(key, 'POST', '/v1/files', { body: fileForm('{"messages": []}\n') });
    const bad = ((await response.json()) as { id: string; status: string }).id;

    // Act
    const { status, error } = await refusal({ model: 'tiny-llama', training_file: bad });

    // Assess
    expect(status).toBe(400);
    expect(error.param).toBe('training_file');
    expect(error.message).toMatch(
      new RegExp(`^invalid training_file: file ${bad} failed validation and cannot be trained on: `),
    );
  });

  it('refuses finance keys', async () => {
    // Prepare
    const finance = await platform.createTeamKey('acme', 'finance');

    // Act
    const response = await createJob(platform, finance, { model: 'tiny-llama', training_file: trainingFile });

    // Assess
    expect(response.status).toBe(403);
  });

  it('returns the same job for a repeated Idempotency-Key and refuses the key with another body', async () => {
    // Prepare
    const body = {
      model: 'tiny-llama',
      training_file: trainingFile,
      metadata: trainerMetadata({ mode: 'run' }),
    };
    const headers = { 'Idempotency-Key': 'create-once' };

    // Act
    const first = (await (await createJob(platform, key, body, headers)).json()) as FineTuningJob;
    const again = await createJob(platform, key, body, headers);
    const changed = await createJob(platform, key, { ...body, seed: 7 }, headers);

    // Assess
    expect(again.status).toBe(200);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(((await again.json()) as FineTuningJob).id).toBe(first.id);
    expect(changed.status).toBe(409);
    expect(((await changed.json()) as ErrorBody).error.code).toBe('idempotency_key_reused');
  });

  it('lists jobs newest first, pages with after, and filters by metadata', async () => {
    // Prepare
    const listKey = await platform.createTeamKey('lister', 'member');
    const file = await uploadTrainingFile(platform, listKey);
    const ids: string[] = [];
    for (const colour of ['red', 'blue', 'red']) {
      const response = await createJob(platform, listKey, {
        model: 'tiny-llama',
        training_file: file,
        metadata: { ...trainerMetadata({ mode: 'fail' }), colour },
      });
      ids.push(((await response.json()) as FineTuningJob).id);
    }
    const list = async (query: string) =>
      (await (await platform.call(listKey, 'GET', `/v1/fine_tuning/jobs${query}`)).json()) as {
        data: FineTuningJob[];
        has_more: boolean;
      };

    // Act
    const firstPage = await list('?limit=2');
    const secondPage = await list(`?limit=2&after=${firstPage.data.at(-1)?.id}`);
    const red = await list('?metadata[colour]=red');
    const badQuery = await platform.call(listKey, 'GET', '/v1/fine_tuning/jobs?colour=red');
    const tooManyFilters = await platform.call(
      listKey,
      'GET',
      `/v1/fine_tuning/jobs?${Array.from({ length: 17 }, (_, index) => `metadata[k${index}]=v`).join('&')}`,
    );

    // Assess
    expect(firstPage.data.map((job) => job.id)).toEqual([ids[2], ids[1]]);
    expect(firstPage.has_more).toBe(true);
    expect(secondPage.data.map((job) => job.id)).toEqual([ids[0]]);
    expect(secondPage.has_more).toBe(false);
    expect(red.data.map((job) => job.id)).toEqual([ids[2], ids[0]]);
    expect(badQuery.status).toBe(400);
    expect(((await badQuery.json()) as ErrorBody).error.param).toBe('colour');
    expect(((await tooManyFilters.json()) as ErrorBody).error).toEqual({
      message: "Invalid query parameter 'metadata': filters on at most 16 keys.",
      type: 'invalid_request_error',
      param: 'metadata',
      code: 'invalid_value',
    });
  });

  it('answers an unknown or foreign job id with 404', async () => {
    // Prepare
    const otherKey = await platform.createTeamKey('initech', 'member');
    const mine = (await (
      await createJob(platform, key, {
        model: 'tiny-llama',
        training_file: trainingFile,
        metadata: trainerMetadata({ mode: 'fail' }),
      })
    ).json()) as FineTuningJob;

    // Act
    const foreign = await platform.call(otherKey, 'GET', `/v1/fine_tuning/jobs/${mine.id}`);
    const unknown = await platform.call(key, 'GET', '/v1/fine_tuning/jobs/ftjob-nope');

    // Assess
    expect(foreign.status).toBe(404);
    expect(((await foreign.json()) as ErrorBody).error.message).toBe(
      `No fine-tuning job found with id ${mine.id}.`,
    );
    expect(unknown.status).toBe(404);
  });
});

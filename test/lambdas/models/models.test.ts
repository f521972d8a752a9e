import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fineTunedModelFromJob, resolveModelForJob } from '../../../lambdas/models/service';
import { createDocumentClient, createS3Client, DynamoModelStore, S3ObjectStore } from '../../../lib/adapters';
import { NotFoundError } from '../../../lib/core/errors';
import { newId } from '../../../lib/core/ids';
import type { ErrorBody, FineTunedModel, ModelObject } from '../../../lib/core/schemas';
import {
  registerTinyModel,
  TINY_LLAMA_CONFIG,
  tinyLlamaFiles,
  tinyLlamaTensorShapes,
  uploadModelFiles,
} from '../../helpers/models';
import { startTestPlatform, type TestPlatform } from '../../helpers/platform';

const json = { 'Content-Type': 'application/json' };

function secondsNow(): number {
  return Math.floor(Date.now() / 1000);
}

function notFound(name: string): ErrorBody {
  return {
    error: {
      message: `The model \`${name}\` does not exist or you do not have access to it.`,
      type: 'invalid_request_error',
      param: 'model',
      code: 'model_not_found',
    },
  };
}

function tinyBaseObject(id: string, created: number): ModelObject {
  return {
    id,
    object: 'model',
    created,
    owned_by: 'whetstone',
    whetstone: { kind: 'base', architecture: 'LlamaForCausalLM', base_model: null, job_id: null },
  };
}

function fineTunedObject(model: FineTunedModel): ModelObject {
  return {
    id: model.id,
    object: 'model',
    created: model.created,
    owned_by: model.team,
    whetstone: {
      kind: 'fine-tuned',
      architecture: model.architecture,
      base_model: model.base_model,
      job_id: model.job_id,
    },
  };
}

/** A model as a succeeded job of `team` would leave it, with a fresh job id. */
function tunedModel(
  team: string,
  options: { suffix?: string | null; baseModel?: string; trainingMethod?: 'lora' | 'full' | 'partial' } = {},
): FineTunedModel {
  return fineTunedModelFromJob(
    {
      id: newId('job'),
      team,
      suffix: options.suffix ?? null,
      baseModel: options.baseModel ?? 'tiny-llama',
      architecture: 'LlamaForCausalLM',
      trainingMethod: options.trainingMethod ?? 'lora',
    },
    Date.now(),
  );
}

describe('Models API', () => {
  let p: TestPlatform;
  let models: DynamoModelStore;
  let objects: S3ObjectStore;
  let closeClients: () => void;
  let keys: { member: string; admin: string; finance: string; otherMember: string; otherAdmin: string };
  /** Registered by the first test; later tests read and train from it. */
  let tiny: ModelObject;

  beforeAll(async () => {
    p = await startTestPlatform();
    const documentClient = createDocumentClient({
      endpoint: p.platform.dynamodbEndpoint,
      region: 'us-east-1',
    });
    const s3 = createS3Client({ endpoint: p.platform.s3Endpoint, forcePathStyle: true, region: 'us-east-1' });
    models = new DynamoModelStore(documentClient, p.platform.table);
    objects = new S3ObjectStore(s3, p.platform.bucket);
    closeClients = () => {
      documentClient.destroy();
      s3.destroy();
    };
    keys = {
      member: await p.createTeamKey('default', 'member'),
      admin: await p.createTeamKey('default', 'admin'),
      finance: await p.createTeamKey('default', 'finance'),
      otherMember: await p.createTeamKey('other', 'member'),
      otherAdmin: await p.createTeamKey('other', 'admin'),
    };
  });
  afterAll(async () => {
    closeClients?.();
    await p?.stop();
  });

  const register = (key: string, body: unknown) =>
    p.call(key, 'POST', '/v1/whetstone/models', { body: JSON.stringify(body), headers: json });
  const errorOf = async (response: Response) => (await response.json()) as ErrorBody;
  const getModel = (key: string, id: string) => p.call(key, 'GET', `/v1/models/${encodeURIComponent(id)}`);
  const deleteModel = (key: string, id: string) =>
    p.call(key, 'DELETE', `/v1/models/${encodeURIComponent(id)}`);

  describe('POST /v1/whetstone/models', () => {
    it('registers the generated tiny Llama model from models/{id}/', async () => {
      // Prepare
      const before = secondsNow();

      // Act
      tiny = await registerTinyModel(p);
      const after = secondsNow();

      // Assess
      expect(tiny).toEqual(tinyBaseObject('tiny-llama', tiny.created));
      expect(tiny.created).toBeGreaterThanOrEqual(before);
      expect(tiny.created).toBeLessThanOrEqual(after);
      expect(await models.getBase('tiny-llama')).toEqual({
        id: 'tiny-llama',
        architecture: 'LlamaForCausalLM',
        prefix: 'models/tiny-llama/',
        created: tiny.created,
      });
      expect((await p.listObjects()).filter((key) => key.startsWith('models/tiny-llama/')).sort()).toEqual([
        'models/tiny-llama/config.json',
        'models/tiny-llama/model.safetensors',
        'models/tiny-llama/tokenizer.json',
        'models/tiny-llama/tokenizer_config.json',
      ]);
    });

    it('refuses an id that is already registered with 409, leaving the record as it was', async () => {
      // Act
      const response = await register(p.ownerKey, { id: 'tiny-llama' });

      // Assess
      expect(response.status).toBe(409);
      expect(await errorOf(response)).toEqual({
        error: {
          message: 'A base model with id tiny-llama is already registered.',
          type: 'invalid_request_error',
          param: 'id',
          code: 'model_exists',
        },
      });
      expect((await models.getBase('tiny-llama'))?.created).toBe(tiny.created);
    });

    it('registers files under a prefix the request names', async () => {
      // Prepare
      await uploadModelFiles(p, 'models/shared/tiny-v2/', tinyLlamaFiles());

      // Act
      const response = await register(p.ownerKey, { id: 'tiny-v2', prefix: 'models/shared/tiny-v2/' });

      // Assess
      expect(response.status).toBe(200);
      const model = (await response.json()) as ModelObject;
      expect(model).toEqual(tinyBaseObject('tiny-v2', model.created));
      expect((await models.getBase('tiny-v2'))?.prefix).toBe('models/shared/tiny-v2/');
    });

    it('accepts sharded weights, found by their index', async () => {
      // Prepare
      const { 'model.safetensors': weights, ...rest } = tinyLlamaFiles();
      const index = { metadata: {}, weight_map: { 'lm_head.weight': 'model-00001-of-00001.safetensors' } };
      await uploadModelFiles(p, 'models/sharded-llama/', {
        ...rest,
        'model.safetensors.index.json': Buffer.from(JSON.stringify(index)),
        'model-00001-of-00001.safetensors': weights as Buffer,
      });

      // Act
      const response = await register(p.ownerKey, { id: 'sharded-llama' });

      // Assess
      expect(response.status).toBe(200);
      expect((await models.getBase('sharded-llama'))?.prefix).toBe('models/sharded-llama/');
    });

    it('refuses a prefix without config.json, naming the prefix and the key it looked for', async () => {
      // Act
      const response = await register(p.ownerKey, { id: 'absent' });

      // Assess
      expect(response.status).toBe(400);
      expect(await errorOf(response)).toEqual({
        error: {
          message:
            "No config.json under models/absent/: models/absent/config.json does not exist. Upload the model's Hugging Face files there first.",
          type: 'invalid_request_error',
          param: 'prefix',
          code: null,
        },
      });
      expect(await models.getBase('absent')).toBeUndefined();
    });

    it('refuses an unsupported architecture, naming the file, the field and what is supported', async () => {
      // Prepare
      await uploadModelFiles(p, 'models/gpt2/', {
        ...tinyLlamaFiles(),
        'config.json': Buffer.from(
          JSON.stringify({ architectures: ['GPT2LMHeadModel'], model_type: 'gpt2' }),
        ),
      });

      // Act
      const response = await register(p.ownerKey, { id: 'gpt2' });

      // Assess
      expect(response.status).toBe(400);
      expect(await errorOf(response)).toEqual({
        error: {
          message:
            "models/gpt2/config.json: architectures[0] 'GPT2LMHeadModel' is not supported; supported: LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM.",
          type: 'invalid_request_error',
          param: 'prefix',
          code: 'unsupported_architecture',
        },
      });
      expect(await models.getBase('gpt2')).toBeUndefined();
    });

    it('refuses a config.json that is not JSON or names no architecture', async () => {
      // Prepare
      await uploadModelFiles(p, 'models/garbled/', {
        ...tinyLlamaFiles(),
        'config.json': Buffer.from('{"arch'),
      });
      await uploadModelFiles(p, 'models/nameless/', {
        ...tinyLlamaFiles(),
        'config.json': Buffer.from(JSON.stringify({ model_type: 'llama', architectures: [] })),
      });

      // Act
      const garbled = await register(p.ownerKey, { id: 'garbled' });
      const nameless = await register(p.ownerKey, { id: 'nameless' });

      // Assess
      expect(garbled.status).toBe(400);
      expect((await errorOf(garbled)).error).toMatchObject({
        message: 'models/garbled/config.json: not valid JSON.',
        param: 'prefix',
      });
      expect(nameless.status).toBe(400);
      expect((await errorOf(nameless)).error).toMatchObject({
        message: 'models/nameless/config.json: architectures[0] is missing; it names the model class.',
        param: 'prefix',
      });
    });

    it('refuses a folder without weights', async () => {
      // Prepare
      const { 'model.safetensors': _weights, ...withoutWeights } = tinyLlamaFiles();
      await uploadModelFiles(p, 'models/weightless/', withoutWeights);

      // Act
      const response = await register(p.ownerKey, { id: 'weightless' });

      // Assess
      expect(response.status).toBe(400);
      expect((await errorOf(response)).error).toMatchObject({
        message:
          'No weights under models/weightless/: expected models/weightless/model.safetensors or models/weightless/model.safetensors.index.json.',
        param: 'prefix',
      });
      expect(await models.getBase('weightless')).toBeUndefined();
    });

    it('refuses every role but owner, and stores nothing', async () => {
      // Prepare
      await uploadModelFiles(p, 'models/by-admin/', tinyLlamaFiles());

      for (const key of [keys.admin, keys.member, keys.finance]) {
        // Act
        const response = await register(key, { id: 'by-admin' });

        // Assess
        expect(response.status).toBe(403);
        expect((await errorOf(response)).error.code).toBe('insufficient_permissions');
      }
      expect(await models.getBase('by-admin')).toBeUndefined();
    });

    it('refuses an id outside the pattern, naming id', async () => {
      // Act
      const response = await register(p.ownerKey, { id: 'has space' });

      // Assess
      expect(response.status).toBe(400);
      expect((await errorOf(response)).error.param).toBe('id');
    });
  });

  describe('the tiny model', () => {
    it('has a safetensors header describing every Llama tensor in F32, contiguous and aligned', () => {
      // Prepare
      const weights = tinyLlamaFiles()['model.safetensors'] as Buffer;

      // Act
      const headerLength = Number(weights.readBigUInt64LE(0));
      const header = JSON.parse(weights.subarray(8, 8 + headerLength).toString('utf8')) as Record<
        string,
        { dtype: string; shape: number[]; data_offsets: [number, number] }
      >;
      const { __metadata__: metadata, ...tensors } = header;

      // Assess
      expect(headerLength % 8).toBe(0);
      expect(metadata).toEqual({ format: 'pt' });
      expect(Object.keys(tensors)).toHaveLength(1 + 9 * TINY_LLAMA_CONFIG.num_hidden_layers + 2);
      expect(Object.fromEntries(Object.entries(tensors).map(([name, t]) => [name, t.shape]))).toEqual(
        tinyLlamaTensorShapes(),
      );
      expect(tensors['model.layers.1.self_attn.k_proj.weight']?.shape).toEqual([8, 16]);
      expect(tensors['lm_head.weight']?.shape).toEqual([64, 16]);
      let offset = 0;
      for (const tensor of Object.values(tensors)) {
        expect(tensor.dtype).toBe('F32');
        expect(tensor.data_offsets).toEqual([offset, offset + 4 * tensor.shape.reduce((a, b) => a * b, 1)]);
        offset = tensor.data_offsets[1];
      }
      expect(weights.length).toBe(8 + headerLength + offset);
      expect(tinyLlamaFiles()['model.safetensors']?.equals(weights)).toBe(true);
    });
  });

  describe('fine-tuned models', () => {
    let mine: FineTunedModel;
    let theirs: FineTunedModel;

    beforeAll(async () => {
      mine = tunedModel('default', { suffix: 'support-bot' });
      theirs = tunedModel('other', { trainingMethod: 'full' });
      await models.putFineTuned(mine);
      await models.putFineTuned(theirs);
      // A handler seeing the job succeed twice writes the same record twice.
      await models.putFineTuned(mine);
    });

    it('names and places a job’s model by its training method', () => {
      // Prepare
      const jobId = 'ftjob-01J0ABCDEFGHJKMNPQRSTVWXYZ';
      const job = {
        id: jobId,
        team: 'default',
        suffix: null,
        baseModel: 'tiny-llama',
        architecture: 'LlamaForCausalLM' as const,
      };

      // Act
      const lora = fineTunedModelFromJob({ ...job, trainingMethod: 'lora' }, 1_700_000_000_999);
      const full = fineTunedModelFromJob({ ...job, trainingMethod: 'full' }, 1_700_000_000_999);
      const partial = fineTunedModelFromJob({ ...job, suffix: 'ops', trainingMethod: 'partial' }, 0);

      // Assess
      expect(lora).toEqual({
        id: 'ft:tiny-llama:default::01j0abcdefghjkmnpqrstvwxyz',
        team: 'default',
        job_id: jobId,
        base_model: 'tiny-llama',
        architecture: 'LlamaForCausalLM',
        prefix: `artifacts/default/${jobId}/adapter/`,
        created: 1_700_000_000,
      });
      expect(full.prefix).toBe(`artifacts/default/${jobId}/model/`);
      expect(partial.prefix).toBe(`artifacts/default/${jobId}/model/`);
      expect(partial.id).toBe('ft:tiny-llama:default:ops:01j0abcdefghjkmnpqrstvwxyz');
    });

    describe('GET /v1/models', () => {
      it("lists base models, ordered by id, to every team and each team's own fine-tuned models", async () => {
        // Prepare
        const bases = ['sharded-llama', 'tiny-llama', 'tiny-v2'];

        for (const [key, own] of [
          [keys.member, [mine]],
          [keys.admin, [mine]],
          [p.ownerKey, [mine]],
          [keys.otherMember, [theirs]],
        ] as const) {
          // Act
          const response = await p.call(key, 'GET', '/v1/models');

          // Assess
          expect(response.status).toBe(200);
          const list = (await response.json()) as { object: string; data: ModelObject[] };
          expect(list.object).toBe('list');
          expect(list.data.map((model) => model.id)).toEqual([...bases, ...own.map((model) => model.id)]);
          expect(list.data[1]).toEqual(tiny);
          expect(list.data[3]).toEqual(fineTunedObject(own[0]));
        }
      });

      it('refuses finance keys', async () => {
        // Act
        const response = await p.call(keys.finance, 'GET', '/v1/models');

        // Assess
        expect(response.status).toBe(403);
      });
    });

    describe('GET /v1/models/{model}', () => {
      it('reads a base model by id', async () => {
        // Act
        const response = await getModel(keys.otherMember, 'tiny-llama');

        // Assess
        expect(response.status).toBe(200);
        expect(await response.json()).toEqual(tiny);
      });

      it("reads the team's fine-tuned model, its colons percent-encoded or not", async () => {
        // Act
        const encoded = await getModel(keys.member, mine.id);
        const raw = await p.call(keys.member, 'GET', `/v1/models/${mine.id}`);

        // Assess
        expect(mine.id).toMatch(/^ft:tiny-llama:default:support-bot:[0-9a-z]{26}$/);
        expect(encoded.status).toBe(200);
        expect(await encoded.json()).toEqual(fineTunedObject(mine));
        expect(raw.status).toBe(200);
        expect(await raw.json()).toEqual(fineTunedObject(mine));
      });

      it("answers another team's fine-tuned model exactly as one that never existed", async () => {
        // Prepare
        const neverMade = tunedModel('default').id;

        // Act
        const foreign = await getModel(keys.member, theirs.id);
        const missing = await getModel(keys.member, neverMade);
        const unknown = await getModel(keys.member, 'gpt-4o-mini');
        const overlong = await getModel(keys.member, `ft:${'x'.repeat(3000)}`);

        // Assess
        expect(foreign.status).toBe(404);
        expect(await errorOf(foreign)).toEqual(notFound(theirs.id));
        expect(missing.status).toBe(404);
        expect(await errorOf(missing)).toEqual(notFound(neverMade));
        expect(unknown.status).toBe(404);
        expect(await errorOf(unknown)).toEqual(notFound('gpt-4o-mini'));
        expect(overlong.status).toBe(404);
      });
    });

    describe('resolveModelForJob', () => {
      it('resolves a base model to itself with no parent', async () => {
        // Act
        const resolved = await resolveModelForJob({ models }, 'default', 'tiny-llama');

        // Assess
        expect(resolved).toEqual({
          requested: 'tiny-llama',
          base: {
            id: 'tiny-llama',
            architecture: 'LlamaForCausalLM',
            prefix: 'models/tiny-llama/',
            created: tiny.created,
          },
          parent: null,
        });
      });

      it("resolves the team's fine-tuned model to its base, with the model as parent", async () => {
        // Act
        const resolved = await resolveModelForJob({ models }, 'default', mine.id);

        // Assess
        expect(resolved).toEqual({
          requested: mine.id,
          base: {
            id: 'tiny-llama',
            architecture: 'LlamaForCausalLM',
            prefix: 'models/tiny-llama/',
            created: tiny.created,
          },
          parent: mine,
        });
      });

      it("refuses another team's fine-tuned model and unknown names alike, on param model", async () => {
        for (const name of [theirs.id, 'tiny-llama-2', 'ft:tiny-llama:default::nope']) {
          // Act
          const failure = await resolveModelForJob({ models }, 'default', name).catch(
            (error: unknown) => error,
          );

          // Assess
          expect(failure).toBeInstanceOf(NotFoundError);
          expect(failure).toMatchObject({
            message: `The model \`${name}\` does not exist or you do not have access to it.`,
            param: 'model',
            code: 'model_not_found',
            statusCode: 404,
          });
        }
      });

      it('refuses a fine-tuned model whose base model is no longer registered', async () => {
        // Prepare
        const orphan = tunedModel('default', { baseModel: 'retired-llama' });
        await models.putFineTuned(orphan);

        // Act
        const failure = await resolveModelForJob({ models }, 'default', orphan.id).catch(
          (error: unknown) => error,
        );

        // Assess
        expect(failure).toBeInstanceOf(NotFoundError);
        expect(failure).toMatchObject({
          message: `The base model \`retired-llama\` of \`${orphan.id}\` is no longer registered.`,
          param: 'model',
        });
        await models.deleteFineTuned('default', orphan.id);
      });
    });

    describe('through the official openai SDK', () => {
      it('lists, retrieves and deletes models, the colons of ft: names surviving its path encoding', async () => {
        // Prepare
        const sdkModel = tunedModel('default', { suffix: 'sdk' });
        await models.putFineTuned(sdkModel);
        const client = new OpenAI({ baseURL: `${p.url}/v1`, apiKey: keys.admin, maxRetries: 0 });

        // Act
        const listed: string[] = [];
        for await (const model of client.models.list()) listed.push(model.id);
        const retrieved = await client.models.retrieve(sdkModel.id);
        const base = await client.models.retrieve('tiny-llama');
        const deleted = await client.models.delete(sdkModel.id);
        const refused = await client.models.delete('tiny-llama').catch((error: unknown) => error);

        // Assess
        // Fine-tuned models follow the base models in name order: suffix `sdk` sorts before `support-bot`.
        expect(listed).toEqual(['sharded-llama', 'tiny-llama', 'tiny-v2', sdkModel.id, mine.id]);
        expect(retrieved).toEqual(fineTunedObject(sdkModel));
        expect(base).toEqual(tiny);
        expect(deleted).toEqual({ id: sdkModel.id, object: 'model', deleted: true });
        expect(refused).toBeInstanceOf(OpenAI.PermissionDeniedError);
        expect(refused).toMatchObject({ status: 403, param: 'model', code: 'insufficient_permissions' });
      });
    });

    describe('DELETE /v1/models/{model}', () => {
      it('deletes the record, then every object under its prefix and nothing else', async () => {
        // Prepare
        const doomed = tunedModel('default', { suffix: 'doomed' });
        await models.putFineTuned(doomed);
        const jobFolder = doomed.prefix.replace(/adapter\/$/, '');
        await uploadModelFiles(p, doomed.prefix, {
          'adapter_config.json': Buffer.from('{"r":8}'),
          'adapter_model.safetensors': Buffer.alloc(64, 1),
        });
        await uploadModelFiles(p, jobFolder, { 'spec.json': Buffer.from('{}') });

        // Act
        const response = await deleteModel(keys.admin, doomed.id);
        const again = await deleteModel(keys.admin, doomed.id);

        // Assess
        expect(response.status).toBe(200);
        expect(await response.json()).toEqual({ id: doomed.id, object: 'model', deleted: true });
        expect(await models.getFineTuned('default', doomed.id)).toBeUndefined();
        const left = (await p.listObjects()).filter((key) => key.startsWith(jobFolder));
        expect(left).toEqual([`${jobFolder}spec.json`]);
        expect(again.status).toBe(404);
        expect(await errorOf(again)).toEqual(notFound(doomed.id));
        expect((await getModel(keys.member, doomed.id)).status).toBe(404);
      });

      it("answers another team's admin 404 and leaves the model and its objects alone", async () => {
        // Prepare
        await uploadModelFiles(p, mine.prefix, { 'adapter_config.json': Buffer.from('{"r":8}') });

        // Act
        const response = await deleteModel(keys.otherAdmin, mine.id);

        // Assess
        expect(response.status).toBe(404);
        expect(await errorOf(response)).toEqual(notFound(mine.id));
        expect(await models.getFineTuned('default', mine.id)).toEqual(mine);
        expect(await p.listObjects()).toContain(`${mine.prefix}adapter_config.json`);
      });

      it('refuses members, whose role may not destroy artifacts', async () => {
        // Act
        const response = await deleteModel(keys.member, mine.id);

        // Assess
        expect(response.status).toBe(403);
        expect(await models.getFineTuned('default', mine.id)).toEqual(mine);
      });

      it('refuses to delete a base model with a permission error', async () => {
        // Act
        const response = await deleteModel(p.ownerKey, 'tiny-llama');

        // Assess
        expect(response.status).toBe(403);
        expect(await errorOf(response)).toEqual({
          error: {
            message: 'You cannot delete base model tiny-llama.',
            type: 'invalid_request_error',
            param: 'model',
            code: 'insufficient_permissions',
          },
        });
        expect(await models.getBase('tiny-llama')).toBeDefined();
        expect(await p.listObjects()).toContain('models/tiny-llama/model.safetensors');
      });

      it('answers an unknown model 404', async () => {
        // Act
        const response = await deleteModel(keys.admin, 'no-such-model');

        // Assess
        expect(response.status).toBe(404);
        expect(await errorOf(response)).toEqual(notFound('no-such-model'));
      });
    });
  });

  describe('DynamoModelStore', () => {
    it("refuses a second base model with the same id and lists a team's fine-tuned models by name", async () => {
      // Prepare
      const taken = await models.getBase('tiny-llama');
      const many = Array.from({ length: 30 }, () => tunedModel('paged'));

      // Act
      const written = await models.putBase({
        ...(taken as NonNullable<typeof taken>),
        prefix: 'models/other/',
      });
      for (const model of many) await models.putFineTuned(model);
      const listed = await models.listFineTuned('paged');

      // Assess
      expect(written).toBe(false);
      expect((await models.getBase('tiny-llama'))?.prefix).toBe('models/tiny-llama/');
      expect(listed.map((model) => model.id)).toEqual(many.map((model) => model.id).sort());
      expect(await models.listFineTuned('nobody')).toEqual([]);
    });
  });

  describe('S3ObjectStore.deletePrefix', () => {
    it('deletes only keys under the prefix and counts them', async () => {
      // Prepare
      await uploadModelFiles(p, 'scratch/a/', { one: Buffer.from('1'), 'deep/two': Buffer.from('2') });
      await uploadModelFiles(p, 'scratch/', { 'ab/three': Buffer.from('3') });

      // Act
      const deleted = await objects.deletePrefix('scratch/a/');
      const none = await objects.deletePrefix('scratch/nothing/');

      // Assess
      expect(deleted).toBe(2);
      expect(none).toBe(0);
      expect((await p.listObjects()).filter((key) => key.startsWith('scratch/'))).toEqual([
        'scratch/ab/three',
      ]);
    });
  });
});

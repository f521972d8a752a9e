import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fineTunedModelFromJob } from '../../../lambdas/models/service';
import { ROUTES } from '../../../lambdas/routes';
import { createDocumentClient, DynamoModelStore } from '../../../lib/adapters';
import { type IdKind, newId } from '../../../lib/core/ids';
import type { ApiKey, ErrorBody, FileObject, ListEnvelope } from '../../../lib/core/schemas';
import { createJob, ensureTinyModel, trainerMetadata } from '../../helpers/jobs';
import { chatDataset, fileForm, startTestPlatform, type TestPlatform } from '../../helpers/platform';

const json = { 'Content-Type': 'application/json' };

/** What a path parameter names, and so which id a never-created one of it looks like. */
const ID_KINDS: Record<string, IdKind> = {
  file_id: 'file',
  upload_id: 'upload',
  key_id: 'apiKey',
  // A job id is a model name no one can have made.
  model: 'job',
  fine_tuning_job_id: 'job',
  webhook_id: 'webhook',
};

type Caller = 'member' | 'admin';
interface RouteCase {
  /** The roles of the other team that try the route; each one the route admits. */
  readonly callers: readonly Caller[];
  /** A body the route would accept, so that only the id can make it fail. */
  readonly request: () => { body?: RequestInit['body']; headers?: Record<string, string> };
}

/**
 * Every route that names an object in its path. A route added to the table without a case here
 * fails the first test, so isolation is checked for it before it ships.
 */
const ROUTE_CASES: Record<string, RouteCase> = {
  'GET /v1/files/{file_id}': { callers: ['member', 'admin'], request: () => ({}) },
  'DELETE /v1/files/{file_id}': { callers: ['member', 'admin'], request: () => ({}) },
  'GET /v1/files/{file_id}/content': { callers: ['member', 'admin'], request: () => ({}) },
  'POST /v1/uploads/{upload_id}/parts': {
    callers: ['member', 'admin'],
    request: () => {
      const form = new FormData();
      form.set('data', new Blob([chatDataset(10)]), 'blob');
      return { body: form };
    },
  },
  'POST /v1/uploads/{upload_id}/complete': {
    callers: ['member', 'admin'],
    request: () => ({ body: JSON.stringify({ part_ids: [newId('uploadPart')] }), headers: json }),
  },
  'POST /v1/uploads/{upload_id}/cancel': { callers: ['member', 'admin'], request: () => ({}) },
  'POST /v1/whetstone/uploads/{upload_id}/complete': {
    callers: ['member', 'admin'],
    request: () => ({
      body: JSON.stringify({ parts: [{ part_number: 1, etag: '"0123456789abcdef"' }] }),
      headers: json,
    }),
  },
  // Only admins and owners manage keys; a member is refused for its role whatever the id.
  'DELETE /v1/whetstone/keys/{key_id}': { callers: ['admin'], request: () => ({}) },
  'GET /v1/models/{model}': { callers: ['member', 'admin'], request: () => ({}) },
  // Deleting a model destroys its artifacts, which only admins and owners may do.
  'DELETE /v1/models/{model}': { callers: ['admin'], request: () => ({}) },
  'GET /v1/fine_tuning/jobs/{fine_tuning_job_id}': { callers: ['member', 'admin'], request: () => ({}) },
  'POST /v1/fine_tuning/jobs/{fine_tuning_job_id}/cancel': {
    callers: ['member', 'admin'],
    request: () => ({}),
  },
  'POST /v1/fine_tuning/jobs/{fine_tuning_job_id}/pause': {
    callers: ['member', 'admin'],
    request: () => ({}),
  },
  'POST /v1/fine_tuning/jobs/{fine_tuning_job_id}/resume': {
    callers: ['member', 'admin'],
    request: () => ({}),
  },
  'GET /v1/fine_tuning/jobs/{fine_tuning_job_id}/events': {
    callers: ['member', 'admin'],
    request: () => ({}),
  },
  'GET /v1/fine_tuning/jobs/{fine_tuning_job_id}/checkpoints': {
    callers: ['member', 'admin'],
    request: () => ({}),
  },
  'GET /v1/whetstone/jobs/{fine_tuning_job_id}/artifacts': {
    callers: ['member', 'admin'],
    request: () => ({}),
  },
  // The greedy `{path+}` stays as written in the URL: the job is looked up before the path.
  'GET /v1/whetstone/jobs/{fine_tuning_job_id}/artifacts/{path+}': {
    callers: ['member', 'admin'],
    request: () => ({}),
  },
  // Only admins and owners manage webhooks.
  'DELETE /v1/whetstone/webhooks/{webhook_id}': { callers: ['admin'], request: () => ({}) },
};

const ID_ROUTES = ROUTES.filter((route) => route.path.includes('{'));

interface TeamFixture {
  readonly team: string;
  readonly keys: Record<Caller, string>;
  /** Ids of objects the team owns, by the path parameter that names them. */
  readonly ids: Record<string, string>;
}

function keyIdOf(value: string): string {
  return `key_${value.split('_')[1]}`;
}

describe('team isolation', () => {
  let p: TestPlatform;
  let home: TeamFixture;
  let other: TeamFixture;

  const createKey = async (team: string, role: Caller) => {
    const response = await p.call(p.ownerKey, 'POST', '/v1/whetstone/keys', {
      body: JSON.stringify({ team, role }),
      headers: json,
    });
    expect(response.status).toBe(200);
    return ((await response.json()) as { value: string }).value;
  };

  /** A file, an open upload, a member key, a fine-tuned model, a job and a webhook, all of the team. */
  const fixture = async (team: string, keys: Record<Caller, string>): Promise<TeamFixture> => {
    const model = fineTunedModelFromJob(
      {
        id: newId('job'),
        team,
        suffix: null,
        baseModel: 'tiny-llama',
        architecture: 'LlamaForCausalLM',
        trainingMethod: 'lora',
      },
      Date.now(),
    );
    const documentClient = createDocumentClient({ endpoint: p.platform.dynamodbEndpoint });
    await new DynamoModelStore(documentClient, p.platform.table).putFineTuned(model);
    documentClient.destroy();
    const file = await p.call(keys.member, 'POST', '/v1/files', { body: fileForm(chatDataset(10)) });
    expect(file.status).toBe(200);
    const upload = await p.call(keys.member, 'POST', '/v1/uploads', {
      body: JSON.stringify({
        bytes: 1024,
        filename: 'big.jsonl',
        mime_type: 'application/jsonl',
        purpose: 'fine-tune',
      }),
      headers: json,
    });
    expect(upload.status).toBe(200);
    const fileId = ((await file.json()) as FileObject).id;
    const job = await createJob(p, keys.member, {
      model: 'tiny-llama',
      training_file: fileId,
      metadata: trainerMetadata({ mode: 'run' }),
    });
    expect(job.status).toBe(200);
    const webhook = await p.call(keys.admin, 'POST', '/v1/whetstone/webhooks', {
      body: JSON.stringify({ url: 'https://hooks.example.com/x' }),
      headers: json,
    });
    expect(webhook.status).toBe(200);
    return {
      team,
      keys,
      ids: {
        file_id: fileId,
        upload_id: ((await upload.json()) as { id: string }).id,
        key_id: keyIdOf(keys.member),
        model: model.id,
        fine_tuning_job_id: ((await job.json()) as { id: string }).id,
        webhook_id: ((await webhook.json()) as { id: string }).id,
      },
    };
  };

  beforeAll(async () => {
    p = await startTestPlatform();
    await ensureTinyModel(p);
    const otherAdmin = await p.createTeamKey('other', 'admin');
    home = await fixture('default', {
      member: await createKey('default', 'member'),
      admin: await createKey('default', 'admin'),
    });
    other = await fixture('other', { member: await createKey('other', 'member'), admin: otherAdmin });
  });
  afterAll(async () => p?.stop());

  it('has a case for every route that takes an id', () => {
    // Prepare
    const described = ID_ROUTES.map((route) => `${route.method} ${route.path}`);

    // Assess
    expect(described.length).toBeGreaterThanOrEqual(4);
    expect(described.filter((route) => !(route in ROUTE_CASES))).toEqual([]);
    const params = ID_ROUTES.flatMap((route) =>
      [...route.path.matchAll(/\{(\w+)\}/g)].map((match) => match[1]),
    );
    expect(params.filter((param) => !((param ?? '') in ID_KINDS))).toEqual([]);
  });

  for (const route of ID_ROUTES) {
    const name = `${route.method} ${route.path}`;
    const param = /\{(\w+)\}/.exec(route.path)?.[1] ?? '';

    for (const [direction, owner, intruder] of [
      ['the other team on team default', () => home, () => other],
      ['team default on the other team', () => other, () => home],
    ] as const) {
      it(`${name}: ${direction}'s object is 404, exactly as an id that never existed`, async () => {
        // Prepare
        const routeCase = ROUTE_CASES[name];
        if (!routeCase) throw new Error(`no cross-team case for ${name}`);
        const foreignId = owner().ids[param] ?? '';
        const neverCreated = newId(ID_KINDS[param] ?? 'file');
        const pathOf = (id: string) => route.path.replace(`{${param}}`, id);

        for (const caller of routeCase.callers) {
          const key = intruder().keys[caller];

          // Act
          const foreign = await p.call(key, route.method, pathOf(foreignId), routeCase.request());
          const missing = await p.call(key, route.method, pathOf(neverCreated), routeCase.request());

          // Assess
          expect({ caller, status: foreign.status }).toEqual({ caller, status: 404 });
          expect(missing.status).toBe(404);
          const foreignError = ((await foreign.json()) as ErrorBody).error;
          const missingError = ((await missing.json()) as ErrorBody).error;
          expect(foreignError).toEqual({
            ...missingError,
            message: missingError.message.replace(neverCreated, foreignId),
          });
          expect(foreignError.param).toBe(param);
        }
      });
    }
  }

  it("leaves each team's objects untouched by the other's attempts", async () => {
    for (const team of [home, other]) {
      // Act
      const file = await p.call(team.keys.member, 'GET', `/v1/files/${team.ids.file_id}`);
      const keyStillWorks = await p.call(team.keys.member, 'GET', '/v1/files');
      const cancelled = await p.call(team.keys.member, 'POST', `/v1/uploads/${team.ids.upload_id}/cancel`);

      // Assess
      expect(file.status).toBe(200);
      expect(keyStillWorks.status).toBe(200);
      // Cancelling succeeds only on an upload still open, so nobody else closed it.
      expect(cancelled.status).toBe(200);
      expect(((await cancelled.json()) as { status: string }).status).toBe('cancelled');
    }
    expect(await p.listObjects()).toEqual(
      expect.arrayContaining([`files/default/${home.ids.file_id}`, `files/other/${other.ids.file_id}`]),
    );
  });

  it("never lists the other team's files", async () => {
    // Act
    const listings = await Promise.all(
      [home.keys.member, home.keys.admin, other.keys.member, other.keys.admin].map(async (key) => {
        const response = await p.call(key, 'GET', '/v1/files');
        expect(response.status).toBe(200);
        return ((await response.json()) as ListEnvelope<FileObject>).data.map((file) => file.id);
      }),
    );

    // Assess
    expect(listings).toEqual([
      [home.ids.file_id],
      [home.ids.file_id],
      [other.ids.file_id],
      [other.ids.file_id],
    ]);
  });

  describe("an admin of another team and team default's keys", () => {
    const noSuchTeam = (team: string) => ({
      error: {
        message: `No such team: ${team}`,
        type: 'invalid_request_error',
        param: 'team',
        code: 'not_found',
      },
    });

    it("cannot list team default's keys, and its own list holds only its team's", async () => {
      // Act
      const foreign = await p.call(other.keys.admin, 'GET', '/v1/whetstone/keys?team=default');
      const own = await p.call(other.keys.admin, 'GET', '/v1/whetstone/keys');

      // Assess
      expect(foreign.status).toBe(404);
      expect(await foreign.json()).toEqual(noSuchTeam('default'));
      expect(own.status).toBe(200);
      const listed = ((await own.json()) as ListEnvelope<ApiKey>).data;
      expect(listed.map((key) => key.team)).toEqual(listed.map(() => 'other'));
      expect(listed.map((key) => key.id).sort()).toEqual(
        [keyIdOf(other.keys.admin), keyIdOf(other.keys.member)].sort(),
      );
    });

    it("cannot revoke team default's key, by naming the team or not", async () => {
      // Act
      const plain = await p.call(other.keys.admin, 'DELETE', `/v1/whetstone/keys/${home.ids.key_id}`);
      const named = await p.call(
        other.keys.admin,
        'DELETE',
        `/v1/whetstone/keys/${home.ids.key_id}?team=default`,
      );
      const stillWorks = await p.call(home.keys.member, 'GET', '/v1/files');

      // Assess
      expect(plain.status).toBe(404);
      expect(await plain.json()).toEqual({
        error: {
          message: `No such API key: ${home.ids.key_id}`,
          type: 'invalid_request_error',
          param: 'key_id',
          code: 'not_found',
        },
      });
      expect(named.status).toBe(404);
      expect(await named.json()).toEqual(noSuchTeam('default'));
      expect(stillWorks.status).toBe(200);
    });

    it('cannot create keys for team default, answered as for a team that does not exist', async () => {
      // Prepare
      const keysBefore = (await p.countRecords()).api_key;

      // Act
      const responses = await Promise.all(
        [
          { team: 'default', role: 'member' },
          { team: 'default', role: 'owner' },
          { team: 'no-such-team', role: 'member' },
        ].map((body) =>
          p.call(other.keys.admin, 'POST', '/v1/whetstone/keys', {
            body: JSON.stringify(body),
            headers: json,
          }),
        ),
      );

      // Assess
      expect(responses.map((response) => response.status)).toEqual([404, 404, 404]);
      expect(await Promise.all(responses.map((response) => response.json()))).toEqual([
        noSuchTeam('default'),
        noSuchTeam('default'),
        noSuchTeam('no-such-team'),
      ]);
      expect((await p.countRecords()).api_key).toBe(keysBefore);
    });
  });
});

import { DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keys as tableKeys } from '../../../lib/adapters';
import type { CreatedApiKey, ErrorBody, FileObject, Team } from '../../../lib/core/schemas';
import { chatDataset, fileForm, startTestPlatform, type TestPlatform } from '../../helpers/platform';

const json = { 'Content-Type': 'application/json' };

describe('Idempotency-Key', () => {
  let p: TestPlatform;

  beforeAll(async () => {
    p = await startTestPlatform();
  });
  afterAll(async () => p?.stop());

  const counts = async () => {
    const records = await p.countRecords();
    return {
      files: records.file ?? 0,
      teams: records.team ?? 0,
      keys: records.api_key ?? 0,
      idempotency: records.idempotency ?? 0,
      objects: (await p.listObjects()).length,
    };
  };
  const uploadWithKey = (idempotencyKey: string, content: string, key = p.ownerKey) =>
    p.call(key, 'POST', '/v1/files', {
      body: fileForm(content),
      headers: { 'Idempotency-Key': idempotencyKey },
    });
  const postJson = (path: string, body: unknown, idempotencyKey: string, key = p.ownerKey) =>
    p.call(key, 'POST', path, {
      body: JSON.stringify(body),
      headers: { ...json, 'Idempotency-Key': idempotencyKey },
    });
  const reused = (idempotencyKey: string) => ({
    error: {
      message: `Idempotency-Key '${idempotencyKey}' was already used with a different request; use a new key for a new request.`,
      type: 'invalid_request_error',
      param: 'Idempotency-Key',
      code: 'idempotency_key_reused',
    },
  });

  describe('on POST /v1/files', () => {
    it('replays the first upload for a retry with the same key and body, storing one file', async () => {
      // Prepare
      const before = await counts();
      const content = chatDataset(10);

      // Act
      const first = await uploadWithKey('upload-1', content);
      // A new multipart boundary on the retry, as any client's retry has.
      const retry = await uploadWithKey('upload-1', content);

      // Assess
      expect(first.status).toBe(200);
      expect(first.headers.get('idempotent-replayed')).toBeNull();
      expect(retry.status).toBe(200);
      expect(retry.headers.get('idempotent-replayed')).toBe('true');
      expect(retry.headers.get('content-type')).toBe('application/json');
      const original = (await first.json()) as FileObject;
      expect(await retry.json()).toEqual(original);
      expect(await counts()).toEqual({
        ...before,
        files: before.files + 1,
        objects: before.objects + 1,
        idempotency: before.idempotency + 1,
      });
      expect(await p.listObjects()).toContain(`files/default/${original.id}`);
    });

    it('refuses the same key with a different file with 409 idempotency_key_reused', async () => {
      // Prepare
      const first = await uploadWithKey('upload-2', chatDataset(10));
      expect(first.status).toBe(200);
      const before = await counts();

      // Act
      const response = await uploadWithKey('upload-2', chatDataset(11));

      // Assess
      expect(response.status).toBe(409);
      expect(await response.json()).toEqual(reused('upload-2'));
      expect(await counts()).toEqual(before);
    });

    it('stores one file when the same upload races itself', async () => {
      // Prepare
      const before = await counts();
      const content = chatDataset(10);

      // Act
      const responses = await Promise.all(
        Array.from({ length: 4 }, () => uploadWithKey('upload-race', content)),
      );

      // Assess
      const outcomes = await Promise.all(
        responses.map(async (response) => {
          const body = (await response.json()) as { id?: string; error?: { code: string } };
          if (response.status === 409) return body.error?.code;
          expect(response.status).toBe(200);
          return response.headers.get('idempotent-replayed') === 'true' ? 'replayed' : 'ran';
        }),
      );
      // The loser of the claim either waits for nothing (409 in use) or arrives after the winner completed.
      expect(outcomes.filter((outcome) => outcome === 'ran')).toEqual(['ran']);
      for (const outcome of outcomes)
        expect(['ran', 'replayed', 'idempotency_key_in_use']).toContain(outcome);
      const after = await counts();
      expect(after.files).toBe(before.files + 1);
      expect(after.objects).toBe(before.objects + 1);
    });

    it('refuses a key that is not 1-255 printable ASCII characters with 400 naming the header', async () => {
      // Act
      const response = await uploadWithKey('has space', chatDataset(10));

      // Assess
      expect(response.status).toBe(400);
      expect(await response.json()).toEqual({
        error: {
          message: 'Idempotency-Key must be 1-255 printable ASCII characters without spaces.',
          type: 'invalid_request_error',
          param: 'Idempotency-Key',
          code: null,
        },
      });
    });

    it('keeps one team key apart from the same key used by another team', async () => {
      // Prepare
      const otherTeamKey = await p.createTeamKey('neighbours');
      const mine = await uploadWithKey('shared-name', chatDataset(10));

      // Act
      const theirs = await uploadWithKey('shared-name', chatDataset(12), otherTeamKey);

      // Assess
      expect(mine.status).toBe(200);
      expect(theirs.status).toBe(200);
      expect(theirs.headers.get('idempotent-replayed')).toBeNull();
      const [myFile, theirFile] = (await Promise.all([mine.json(), theirs.json()])) as FileObject[];
      expect(theirFile?.id).not.toBe(myFile?.id);
      expect(theirFile?.whetstone.validation?.examples).toBe(12);
    });

    it("never replays one API key's result to another key of the same team", async () => {
      // Prepare
      const colleague = await p.createTeamKey('default', 'admin');
      const mine = await uploadWithKey('same-team-name', chatDataset(10));

      // Act
      const theirs = await uploadWithKey('same-team-name', chatDataset(10), colleague);

      // Assess
      expect(mine.status).toBe(200);
      expect(theirs.status).toBe(200);
      expect(theirs.headers.get('idempotent-replayed')).toBeNull();
      const [myFile, theirFile] = (await Promise.all([mine.json(), theirs.json()])) as FileObject[];
      expect(theirFile?.id).not.toBe(myFile?.id);
    });
  });

  describe('on JSON routes', () => {
    it('replays a team creation for a retry with the same key and body', async () => {
      // Prepare
      const before = await counts();

      // Act
      const first = await postJson('/v1/whetstone/teams', { id: 'replayed', name: 'Replayed' }, 'team-1');
      const retry = await postJson('/v1/whetstone/teams', { name: 'Replayed', id: 'replayed' }, 'team-1');

      // Assess
      expect(first.status).toBe(200);
      expect(retry.status).toBe(200);
      expect(retry.headers.get('idempotent-replayed')).toBe('true');
      expect(await retry.json()).toEqual((await first.json()) as Team);
      expect((await counts()).teams).toBe(before.teams + 1);
    });

    it('refuses the same key with a different team with 409 and creates nothing', async () => {
      // Prepare
      const first = await postJson('/v1/whetstone/teams', { id: 'first-team' }, 'team-2');
      expect(first.status).toBe(200);
      const before = await counts();

      // Act
      const response = await postJson('/v1/whetstone/teams', { id: 'second-team' }, 'team-2');

      // Assess
      expect(response.status).toBe(409);
      expect(await response.json()).toEqual(reused('team-2'));
      expect((await counts()).teams).toBe(before.teams);
    });

    it('refuses a key used on another route with 409', async () => {
      // Prepare
      const first = await postJson('/v1/whetstone/teams', { id: 'route-bound' }, 'team-3');
      expect(first.status).toBe(200);

      // Act
      const response = await postJson('/v1/whetstone/keys', { team: 'route-bound' }, 'team-3');

      // Assess
      expect(response.status).toBe(409);
      expect(await response.json()).toEqual(reused('team-3'));
    });
  });

  describe('when the request holding a key died', () => {
    const plantClaim = async (idempotencyKey: string, lockedUntil: number) => {
      const keyId = `key_${p.ownerKey.split('_')[1]}`;
      const dynamodb = new DynamoDBClient({ endpoint: p.platform.dynamodbEndpoint });
      const item = tableKeys.idempotency('default', `${keyId}#${idempotencyKey}`);
      await dynamodb.send(
        new PutItemCommand({
          TableName: p.platform.table,
          Item: {
            PK: { S: item.PK },
            SK: { S: item.SK },
            entity: { S: 'idempotency' },
            state: { S: 'in_progress' },
            fingerprint: { S: 'of a request that died' },
            claim_token: { S: 'dead' },
            locked_until: { N: String(lockedUntil) },
            expires_at_ttl: { N: String(Math.floor(Date.now() / 1000) + 3600) },
          },
        }),
      );
      dynamodb.destroy();
    };

    it('lets a retry run once the dead claim has lapsed, and not before', async () => {
      // Prepare
      const now = Math.floor(Date.now() / 1000);
      await plantClaim('lapsed', now - 1);
      await plantClaim('held', now + 600);

      // Act
      const afterLapse = await postJson('/v1/whetstone/teams', { id: 'after-lapse' }, 'lapsed');
      const whileHeld = await postJson('/v1/whetstone/teams', { id: 'while-held' }, 'held');

      // Assess
      expect(afterLapse.status).toBe(200);
      // The live claim keeps its key: the request is refused and makes nothing.
      expect(whileHeld.status).toBe(409);
      expect(((await whileHeld.json()) as ErrorBody).error.param).toBe('Idempotency-Key');
      expect(
        (await p.call(p.ownerKey, 'GET', '/v1/whetstone/teams?limit=100').then((r) => r.text())).includes(
          'while-held',
        ),
      ).toBe(false);
    });
  });

  describe('after a failed request', () => {
    it('frees the key when the domain refuses the request, so the corrected retry runs', async () => {
      // Prepare
      const past = Math.floor(Date.now() / 1000) - 60;
      const refused = await postJson('/v1/whetstone/keys', { role: 'member', expires_at: past }, 'key-1');
      expect(refused.status).toBe(400);
      const before = await counts();

      // Act
      const corrected = await postJson('/v1/whetstone/keys', { role: 'member', name: 'fixed' }, 'key-1');
      const replay = await postJson('/v1/whetstone/keys', { role: 'member', name: 'fixed' }, 'key-1');

      // Assess
      expect(corrected.status).toBe(200);
      expect(corrected.headers.get('idempotent-replayed')).toBeNull();
      const created = (await corrected.json()) as CreatedApiKey;
      expect(created).toMatchObject({ team: 'default', role: 'member', name: 'fixed' });
      // A key's secret is never stored, so its creation cannot be replayed: the repeat is refused.
      expect(replay.status).toBe(409);
      expect(((await replay.json()) as ErrorBody).error).toEqual({
        message:
          `Idempotency-Key 'key-1' already made ${created.id}; its secret was shown once and is not kept. ` +
          'Revoke it if the secret was lost, and send a new request with a new key.',
        type: 'invalid_request_error',
        param: 'Idempotency-Key',
        code: 'idempotency_key_consumed',
      });
      expect((await counts()).keys).toBe(before.keys + 1);
    });

    it('frees the key when the team already exists (409), so a retry with a new id runs', async () => {
      // Prepare
      const taken = await postJson('/v1/whetstone/teams', { id: 'default' }, 'team-4');
      expect(taken.status).toBe(409);

      // Act
      const retry = await postJson('/v1/whetstone/teams', { id: 'fresh-team' }, 'team-4');

      // Assess
      expect(retry.status).toBe(200);
      expect(await retry.json()).toMatchObject({ id: 'fresh-team' });
    });

    it('frees the key when the body is refused (400), so the corrected upload runs', async () => {
      // Prepare
      const refused = await p.call(p.ownerKey, 'POST', '/v1/files', {
        body: fileForm(chatDataset(10), 'train.jsonl', 'assistants'),
        headers: { 'Idempotency-Key': 'upload-3' },
      });
      expect(refused.status).toBe(400);

      // Act
      const corrected = await uploadWithKey('upload-3', chatDataset(10));

      // Assess
      expect(corrected.status).toBe(200);
      expect(corrected.headers.get('idempotent-replayed')).toBeNull();
    });
  });
});

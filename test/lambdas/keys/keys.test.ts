import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiKey, CreatedApiKey, ErrorBody, ListEnvelope } from '../../../lib/core/schemas';
import { startTestPlatform, type TestPlatform } from '../../helpers/platform';

const json = { 'Content-Type': 'application/json' };

const invalidApiKey = {
  error: {
    message: 'Incorrect or missing API key. Send it as `Authorization: Bearer <key>`.',
    type: 'invalid_request_error',
    param: null,
    code: 'invalid_api_key',
  },
};

function keyIdOf(value: string): string {
  return `key_${value.split('_')[1]}`;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

describe('API keys', () => {
  let p: TestPlatform;
  let admin: string;
  let member: string;

  beforeAll(async () => {
    p = await startTestPlatform();
    admin = await p.createTeamKey('tools', 'admin');
    member = await p.createTeamKey('tools', 'member');
  });
  afterAll(async () => p?.stop());

  const createKey = (key: string, body: unknown) =>
    p.call(key, 'POST', '/v1/whetstone/keys', { body: JSON.stringify(body), headers: json });
  const createKeyOk = async (key: string, body: unknown) => {
    const response = await createKey(key, body);
    expect(response.status).toBe(200);
    return (await response.json()) as CreatedApiKey;
  };
  const listKeys = async (key: string, query = '') => {
    const response = await p.call(key, 'GET', `/v1/whetstone/keys${query}`);
    expect(response.status).toBe(200);
    return { text: await response.clone().text(), page: (await response.json()) as ListEnvelope<ApiKey> };
  };
  const canCall = async (key: string) => (await p.call(key, 'GET', '/v1/files')).status;

  describe('POST /v1/whetstone/keys', () => {
    it('lets an admin create a member key for its own team, which works at once', async () => {
      // Prepare
      const before = Math.floor(Date.now() / 1000);

      // Act
      const created = await createKeyOk(admin, { role: 'member', name: 'ci runner' });

      // Assess
      expect(created.value).toMatch(/^whet_[0-9A-HJKMNP-TV-Z]{26}_[A-Za-z0-9_-]{43}$/);
      expect(created).toEqual({
        id: keyIdOf(created.value),
        object: 'whetstone.api_key',
        team: 'tools',
        role: 'member',
        name: 'ci runner',
        redacted_value: `whet_...${created.value.slice(-4)}`,
        created_at: created.created_at,
        created_by: keyIdOf(admin),
        expires_at: null,
        revoked_at: null,
        value: created.value,
      });
      expect(created.created_at).toBeGreaterThanOrEqual(before);
      expect(await canCall(created.value)).toBe(200);
    });

    it('lets an admin create another admin key for its own team', async () => {
      // Act
      const created = await createKeyOk(admin, { role: 'admin', team: 'tools' });

      // Assess
      expect(created).toMatchObject({ team: 'tools', role: 'admin', name: null });
    });

    for (const role of ['owner', 'finance'] as const) {
      it(`refuses an admin creating a ${role} key with 403 naming role`, async () => {
        // Prepare
        const keysBefore = (await p.countRecords()).api_key;

        // Act
        const response = await createKey(admin, { role });

        // Assess
        expect(response.status).toBe(403);
        expect(await response.json()).toEqual({
          error: {
            message: `An admin key cannot create ${role} keys.`,
            type: 'invalid_request_error',
            param: 'role',
            code: 'insufficient_permissions',
          },
        });
        expect((await p.countRecords()).api_key).toBe(keysBefore);
      });
    }

    it('refuses a member creating any key with 403', async () => {
      // Act
      const response = await createKey(member, { role: 'member' });

      // Assess
      expect(response.status).toBe(403);
      expect(await response.json()).toEqual({
        error: {
          message: 'A member key cannot create API keys; this needs one of: admin, owner.',
          type: 'invalid_request_error',
          param: null,
          code: 'insufficient_permissions',
        },
      });
    });

    it('lets the owner create keys of every role for any team', async () => {
      // Act
      const created = await Promise.all(
        (['member', 'admin', 'finance', 'owner'] as const).map((role) =>
          createKeyOk(p.ownerKey, { team: 'tools', role }),
        ),
      );

      // Assess
      expect(created.map((key) => [key.team, key.role, key.created_by])).toEqual(
        ['member', 'admin', 'finance', 'owner'].map((role) => ['tools', role, keyIdOf(p.ownerKey)]),
      );
    });

    it('refuses an expires_at in the past with 400 naming expires_at', async () => {
      // Prepare
      const keysBefore = (await p.countRecords()).api_key;

      // Act
      const response = await createKey(admin, {
        role: 'member',
        expires_at: Math.floor(Date.now() / 1000) - 60,
      });

      // Assess
      expect(response.status).toBe(400);
      expect(await response.json()).toEqual({
        error: {
          message: 'expires_at must be in the future (seconds since the epoch).',
          type: 'invalid_request_error',
          param: 'expires_at',
          code: null,
        },
      });
      expect((await p.countRecords()).api_key).toBe(keysBefore);
    });

    it('refuses an unknown role with 400 naming role', async () => {
      // Act
      const response = await createKey(admin, { role: 'superuser' });

      // Assess
      expect(response.status).toBe(400);
      expect(((await response.json()) as ErrorBody).error).toMatchObject({
        param: 'role',
        code: 'invalid_value',
      });
    });
  });

  describe('GET /v1/whetstone/keys', () => {
    it('lists keys without their secret or its hash, each with a redacted value ending as the key does', async () => {
      // Prepare
      const created = await createKeyOk(admin, { role: 'member', name: 'listed' });

      // Act
      const { text, page } = await listKeys(admin);

      // Assess
      const listed = page.data.find((key) => key.id === created.id);
      const { value: _value, ...withoutValue } = created;
      expect(listed).toEqual(withoutValue);
      expect(listed?.redacted_value.endsWith(created.value.slice(-4))).toBe(true);
      for (const key of page.data) {
        expect(Object.keys(key).sort()).toEqual(
          [
            'created_at',
            'created_by',
            'expires_at',
            'id',
            'name',
            'object',
            'redacted_value',
            'revoked_at',
            'role',
            'team',
          ].sort(),
        );
      }
      // The secret is the key's last 43 characters; base64url, so it may itself hold underscores.
      expect(text).not.toContain(created.value.slice(-43));
      expect(text).not.toContain('secret_hash');
      expect(page.data.map((key) => key.team)).toEqual(page.data.map(() => 'tools'));
    });

    it('lists newest first and pages with limit and after', async () => {
      // Prepare
      const all = (await listKeys(p.ownerKey, '?team=tools&limit=100')).page.data.map((key) => key.id);

      // Act
      const first = (await listKeys(p.ownerKey, '?team=tools&limit=3')).page;
      const second = (await listKeys(p.ownerKey, `?team=tools&limit=3&after=${first.last_id}`)).page;

      // Assess
      expect(all).toEqual([...all].sort().reverse());
      expect(first.data.map((key) => key.id)).toEqual(all.slice(0, 3));
      expect(first.has_more).toBe(true);
      expect(second.data.map((key) => key.id)).toEqual(all.slice(3, 6));
    });

    it('refuses a member with 403', async () => {
      // Act
      const response = await p.call(member, 'GET', '/v1/whetstone/keys');

      // Assess
      expect(response.status).toBe(403);
      expect(((await response.json()) as ErrorBody).error.message).toBe(
        'A member key cannot list API keys; this needs one of: admin, owner.',
      );
    });
  });

  describe('DELETE /v1/whetstone/keys/{key_id}', () => {
    it('revokes a key, which is refused with 401 from its next call on', async () => {
      // Prepare
      const created = await createKeyOk(admin, { role: 'member' });
      expect(await canCall(created.value)).toBe(200);

      // Act
      const response = await p.call(admin, 'DELETE', `/v1/whetstone/keys/${created.id}`);

      // Assess
      expect(response.status).toBe(200);
      const revoked = (await response.json()) as ApiKey & { deleted: boolean };
      expect(revoked).toMatchObject({ id: created.id, team: 'tools', deleted: true });
      expect(revoked.revoked_at).toBeGreaterThanOrEqual(created.created_at);
      const next = await p.call(created.value, 'GET', '/v1/files');
      expect(next.status).toBe(401);
      expect(await next.json()).toEqual(invalidApiKey);
      const { page } = await listKeys(admin);
      expect(page.data.find((key) => key.id === created.id)?.revoked_at).toBe(revoked.revoked_at);
    });

    it('answers a second revocation with the key as first revoked', async () => {
      // Prepare
      const created = await createKeyOk(admin, { role: 'member' });
      const first = await p.call(admin, 'DELETE', `/v1/whetstone/keys/${created.id}`);
      expect(first.status).toBe(200);
      const firstBody = (await first.json()) as ApiKey & { deleted: boolean };

      // Act
      const second = await p.call(admin, 'DELETE', `/v1/whetstone/keys/${created.id}`);

      // Assess
      expect(second.status).toBe(200);
      expect(await second.json()).toEqual(firstBody);
      expect(await canCall(created.value)).toBe(401);
    });

    it('refuses an admin revoking a key of a rank it cannot mint (owner, finance) with 403, and the key keeps working', async () => {
      // Prepare
      const owner = await createKeyOk(p.ownerKey, { team: 'tools', role: 'owner' });
      const finance = await createKeyOk(p.ownerKey, { team: 'tools', role: 'finance' });

      // Act
      const onOwner = await p.call(admin, 'DELETE', `/v1/whetstone/keys/${owner.id}`);
      const onFinance = await p.call(admin, 'DELETE', `/v1/whetstone/keys/${finance.id}`);

      // Assess
      expect(onOwner.status).toBe(403);
      expect(((await onOwner.json()) as ErrorBody).error).toEqual({
        message: 'An admin key cannot revoke owner keys.',
        type: 'invalid_request_error',
        param: 'key_id',
        code: 'insufficient_permissions',
      });
      expect(onFinance.status).toBe(403);
      expect(await canCall(owner.value)).toBe(200);
      expect((await p.call(finance.value, 'GET', '/v1/whetstone/teams')).status).toBe(200);
    });

    it('refuses a cursor that is not a key id and a team that does not exist', async () => {
      // Act
      const badCursor = await p.call(p.ownerKey, 'GET', '/v1/whetstone/keys?after=zzzz');
      const noTeam = await p.call(p.ownerKey, 'GET', '/v1/whetstone/keys?team=nope');

      // Assess
      expect(badCursor.status).toBe(400);
      expect(((await badCursor.json()) as ErrorBody).error).toMatchObject({
        message: "after must be an API key id, not 'zzzz'.",
        param: 'after',
      });
      expect(noTeam.status).toBe(404);
      expect(((await noTeam.json()) as ErrorBody).error).toMatchObject({
        message: 'No such team: nope',
        param: 'team',
      });
    });

    it('answers 404 naming key_id for a key id that is malformed', async () => {
      // Act
      const response = await p.call(admin, 'DELETE', '/v1/whetstone/keys/not-a-key');

      // Assess
      expect(response.status).toBe(404);
      expect(await response.json()).toEqual({
        error: {
          message: 'No such API key: not-a-key',
          type: 'invalid_request_error',
          param: 'key_id',
          code: 'not_found',
        },
      });
    });
  });

  describe('expiry', () => {
    it('refuses a key with 401 once its expires_at has passed', async () => {
      // Prepare
      const expiresAt = Math.floor(Date.now() / 1000) + 2;
      const created = await createKeyOk(admin, { role: 'member', expires_at: expiresAt });
      expect(created.expires_at).toBe(expiresAt);
      expect(await canCall(created.value)).toBe(200);
      // The key dies at the start of its expires_at second: wait until just past it.
      const wait = expiresAt * 1000 - Date.now() + 50;
      expect(wait).toBeLessThan(3000);
      await sleep(wait);

      // Act
      const response = await p.call(created.value, 'GET', '/v1/files');

      // Assess
      expect(response.status).toBe(401);
      expect(await response.json()).toEqual(invalidApiKey);
    });
  });
});

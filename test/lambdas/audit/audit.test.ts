import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditRecord, CreatedApiKey, FileObject, ListEnvelope } from '../../../lib/core/schemas';
import { chatDataset, fileForm, startTestPlatform, type TestPlatform } from '../../helpers/platform';

const json = { 'Content-Type': 'application/json' };

function keyIdOf(value: string): string {
  return `key_${value.split('_')[1]}`;
}

describe('audit trail', () => {
  let p: TestPlatform;
  let owner: { key: string; id: string };
  let admin: { key: string; id: string };
  let member: { key: string; id: string };

  beforeAll(async () => {
    p = await startTestPlatform();
    owner = { key: p.ownerKey, id: keyIdOf(p.ownerKey) };
    const adminKey = await p.createTeamKey('audited', 'admin');
    const memberKey = await p.createTeamKey('audited', 'member');
    admin = { key: adminKey, id: keyIdOf(adminKey) };
    member = { key: memberKey, id: keyIdOf(memberKey) };
  });
  afterAll(async () => p?.stop());

  const readAudit = async (query = '') => {
    const response = await p.call(owner.key, 'GET', `/v1/whetstone/audit${query}`);
    expect(response.status).toBe(200);
    return (await response.json()) as ListEnvelope<AuditRecord>;
  };
  /** The record a call left, found by the request id the gateway answered with. */
  const recordOf = async (response: Response, team: string) => {
    const requestId = response.headers.get('x-request-id');
    expect(requestId).toMatch(/^[0-9a-f-]{36}$/);
    const page = await readAudit(`?team=${team}&limit=100`);
    const records = page.data.filter((record) => record.request_id === requestId);
    expect(records).toHaveLength(1);
    return records[0] as AuditRecord;
  };
  const expectRecord = (
    record: AuditRecord,
    expected: Pick<
      AuditRecord,
      'team' | 'actor_key_id' | 'actor_role' | 'action' | 'resource_id' | 'status_code'
    >,
    requestId: string | null,
  ) => {
    expect(record).toEqual({
      id: record.id,
      object: 'whetstone.audit_record',
      created_at: record.created_at,
      ...expected,
      request_id: requestId,
    });
    expect(record.id).toMatch(/^audit_[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(Math.abs(record.created_at - Math.floor(Date.now() / 1000))).toBeLessThanOrEqual(5);
  };

  it('records a file upload and its deletion with the file id', async () => {
    // Act
    const created = await p.call(member.key, 'POST', '/v1/files', { body: fileForm(chatDataset(10)) });
    const file = (await created.json()) as FileObject;
    const deleted = await p.call(member.key, 'DELETE', `/v1/files/${file.id}`);

    // Assess
    expect(created.status).toBe(200);
    expect(deleted.status).toBe(200);
    const common = {
      team: 'audited',
      actor_key_id: member.id,
      actor_role: 'member',
      resource_id: file.id,
    } as const;
    expectRecord(
      await recordOf(created, 'audited'),
      { ...common, action: 'files.create', status_code: 200 },
      created.headers.get('x-request-id'),
    );
    expectRecord(
      await recordOf(deleted, 'audited'),
      { ...common, action: 'files.delete', status_code: 200 },
      deleted.headers.get('x-request-id'),
    );
  });

  it('records a refused upload (400) with its status and no resource', async () => {
    // Act
    const response = await p.call(member.key, 'POST', '/v1/files', {
      body: fileForm(chatDataset(10), 'train.jsonl', 'assistants'),
    });

    // Assess
    expect(response.status).toBe(400);
    expectRecord(
      await recordOf(response, 'audited'),
      {
        team: 'audited',
        actor_key_id: member.id,
        actor_role: 'member',
        action: 'files.create',
        resource_id: null,
        status_code: 400,
      },
      response.headers.get('x-request-id'),
    );
  });

  it('records a deletion of a file that does not exist (404) with the id asked for', async () => {
    // Act
    const response = await p.call(member.key, 'DELETE', '/v1/files/file-00000000000000000000000000');

    // Assess
    expect(response.status).toBe(404);
    expectRecord(
      await recordOf(response, 'audited'),
      {
        team: 'audited',
        actor_key_id: member.id,
        actor_role: 'member',
        action: 'files.delete',
        resource_id: 'file-00000000000000000000000000',
        status_code: 404,
      },
      response.headers.get('x-request-id'),
    );
  });

  it('records key creation and revocation with the key id', async () => {
    // Act
    const created = await p.call(admin.key, 'POST', '/v1/whetstone/keys', {
      body: JSON.stringify({ role: 'member', name: 'audited key' }),
      headers: json,
    });
    const key = (await created.json()) as CreatedApiKey;
    const revoked = await p.call(admin.key, 'DELETE', `/v1/whetstone/keys/${key.id}`);

    // Assess
    expect(created.status).toBe(200);
    expect(revoked.status).toBe(200);
    const common = {
      team: 'audited',
      actor_key_id: admin.id,
      actor_role: 'admin',
      resource_id: key.id,
    } as const;
    expectRecord(
      await recordOf(created, 'audited'),
      { ...common, action: 'keys.create', status_code: 200 },
      created.headers.get('x-request-id'),
    );
    expectRecord(
      await recordOf(revoked, 'audited'),
      { ...common, action: 'keys.revoke', status_code: 200 },
      revoked.headers.get('x-request-id'),
    );
  });

  it('records a refused key creation (403) under the team of the key that tried', async () => {
    // Act
    const response = await p.call(member.key, 'POST', '/v1/whetstone/keys', {
      body: JSON.stringify({ role: 'admin' }),
      headers: json,
    });

    // Assess
    expect(response.status).toBe(403);
    expectRecord(
      await recordOf(response, 'audited'),
      {
        team: 'audited',
        actor_key_id: member.id,
        actor_role: 'member',
        action: 'keys.create',
        resource_id: null,
        status_code: 403,
      },
      response.headers.get('x-request-id'),
    );
  });

  it('records team creation, and a refused duplicate (409), under the owner team', async () => {
    // Act
    const created = await p.call(owner.key, 'POST', '/v1/whetstone/teams', {
      body: JSON.stringify({ id: 'new-team' }),
      headers: json,
    });
    const duplicate = await p.call(owner.key, 'POST', '/v1/whetstone/teams', {
      body: JSON.stringify({ id: 'new-team' }),
      headers: json,
    });

    // Assess
    expect(created.status).toBe(200);
    expect(duplicate.status).toBe(409);
    const common = {
      team: 'default',
      actor_key_id: owner.id,
      actor_role: 'owner',
      action: 'teams.create',
    } as const;
    expectRecord(
      await recordOf(created, 'default'),
      { ...common, resource_id: 'new-team', status_code: 200 },
      created.headers.get('x-request-id'),
    );
    expectRecord(
      await recordOf(duplicate, 'default'),
      { ...common, resource_id: null, status_code: 409 },
      duplicate.headers.get('x-request-id'),
    );
  });

  it('leaves no record for reads', async () => {
    // Prepare
    const before = (await p.countRecords()).audit;

    // Act
    const responses = await Promise.all([
      p.call(member.key, 'GET', '/v1/files'),
      p.call(admin.key, 'GET', '/v1/whetstone/keys'),
      p.call(member.key, 'GET', '/v1/whetstone/teams'),
      p.call(owner.key, 'GET', '/v1/whetstone/audit'),
    ]);

    // Assess
    expect(responses.map((response) => response.status)).toEqual([200, 200, 200, 200]);
    expect((await p.countRecords()).audit).toBe(before);
  });

  it('leaves no record for a call the gateway refused before any handler (401)', async () => {
    // Prepare
    const before = (await p.countRecords()).audit;

    // Act
    const response = await p.call('whet_not-a-key', 'POST', '/v1/files', { body: fileForm(chatDataset(10)) });

    // Assess
    expect(response.status).toBe(401);
    expect((await p.countRecords()).audit).toBe(before);
  });

  describe('GET /v1/whetstone/audit', () => {
    for (const [role, key] of [
      ['member', () => member.key],
      ['admin', () => admin.key],
    ] as const) {
      it(`refuses a ${role} with 403`, async () => {
        // Act
        const response = await p.call(key(), 'GET', '/v1/whetstone/audit');

        // Assess
        expect(response.status).toBe(403);
        expect(await response.json()).toEqual({
          error: {
            message: `${role === 'admin' ? 'An' : 'A'} ${role} key cannot read the audit trail; this needs one of: owner.`,
            type: 'invalid_request_error',
            param: null,
            code: 'insufficient_permissions',
          },
        });
      });
    }

    it("filters by team, and without a filter lists every team's records newest first", async () => {
      // Act
      const audited = await readAudit('?team=audited&limit=100');
      const home = await readAudit('?team=default&limit=100');
      const all = await readAudit('?limit=100');

      // Assess
      expect(audited.data.length).toBeGreaterThan(0);
      expect(new Set(audited.data.map((record) => record.team))).toEqual(new Set(['audited']));
      expect(new Set(home.data.map((record) => record.team))).toEqual(new Set(['default']));
      const allIds = all.data.map((record) => record.id);
      expect(allIds).toEqual([...allIds].sort().reverse());
      expect([...allIds].sort()).toEqual([...audited.data, ...home.data].map((record) => record.id).sort());
      expect(all.has_more).toBe(false);
    });

    it('pages with limit and after, for one team and for all', async () => {
      // Prepare
      const everything = (await readAudit('?limit=100')).data.map((record) => record.id);
      const teamOnly = (await readAudit('?team=audited&limit=100')).data.map((record) => record.id);

      // Act
      const allFirst = await readAudit('?limit=2');
      const allSecond = await readAudit(`?limit=2&after=${allFirst.last_id}`);
      const teamFirst = await readAudit('?team=audited&limit=2');
      const teamSecond = await readAudit(`?team=audited&limit=2&after=${teamFirst.last_id}`);

      // Assess
      expect(allFirst.data.map((record) => record.id)).toEqual(everything.slice(0, 2));
      expect(allFirst.has_more).toBe(true);
      expect(allSecond.data.map((record) => record.id)).toEqual(everything.slice(2, 4));
      expect(teamFirst.data.map((record) => record.id)).toEqual(teamOnly.slice(0, 2));
      expect(teamSecond.data.map((record) => record.id)).toEqual(teamOnly.slice(2, 4));
    });
  });
});

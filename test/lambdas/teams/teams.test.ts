import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ErrorBody, ListEnvelope, Team } from '../../../lib/core/schemas';
import { startTestPlatform, type TestPlatform } from '../../helpers/platform';

const json = { 'Content-Type': 'application/json' };

describe('teams', () => {
  let p: TestPlatform;
  let memberOfMango: string;
  let adminOfMango: string;
  let financeOfDefault: string;

  beforeAll(async () => {
    p = await startTestPlatform();
    memberOfMango = await p.createTeamKey('mango', 'member');
    adminOfMango = await p.createTeamKey('mango', 'admin');
    financeOfDefault = await p.createTeamKey('default', 'finance');
  });
  afterAll(async () => p?.stop());

  const createTeam = (key: string, body: unknown) =>
    p.call(key, 'POST', '/v1/whetstone/teams', { body: JSON.stringify(body), headers: json });
  const listTeams = async (key: string, query = '') => {
    const response = await p.call(key, 'GET', `/v1/whetstone/teams${query}`);
    expect(response.status).toBe(200);
    return (await response.json()) as ListEnvelope<Team>;
  };

  describe('POST /v1/whetstone/teams', () => {
    it('lets the owner create a team, named as asked', async () => {
      // Prepare
      const before = Math.floor(Date.now() / 1000);

      // Act
      const response = await createTeam(p.ownerKey, { id: 'research', name: 'Research & Development' });

      // Assess
      expect(response.status).toBe(200);
      const team = (await response.json()) as Team;
      expect(team).toEqual({
        id: 'research',
        object: 'whetstone.team',
        name: 'Research & Development',
        created_at: team.created_at,
      });
      expect(team.created_at).toBeGreaterThanOrEqual(before);
      expect(team.created_at).toBeLessThanOrEqual(Math.floor(Date.now() / 1000));
    });

    it('names a team after its id when no name is given', async () => {
      // Act
      const response = await createTeam(p.ownerKey, { id: 'zebra' });

      // Assess
      expect(response.status).toBe(200);
      expect(await response.json()).toMatchObject({ id: 'zebra', name: 'zebra' });
    });

    it('refuses a team id that exists with 409 naming id, and keeps the first team', async () => {
      // Prepare
      const teamsBefore = (await p.countRecords()).team;

      // Act
      const response = await createTeam(p.ownerKey, { id: 'research', name: 'Impostor' });

      // Assess
      expect(response.status).toBe(409);
      expect(await response.json()).toEqual({
        error: {
          message: 'Team research already exists.',
          type: 'invalid_request_error',
          param: 'id',
          code: 'team_exists',
        },
      });
      expect((await p.countRecords()).team).toBe(teamsBefore);
      const listed = await listTeams(p.ownerKey);
      expect(listed.data.find((team) => team.id === 'research')?.name).toBe('Research & Development');
    });

    const badIds: readonly [string, unknown, string, string][] = [
      [
        'upper case and underscores',
        'Bad_Team',
        "Invalid body parameter 'id': must be 1-40 lowercase letters, digits or hyphens, starting and ending alphanumeric.",
        'invalid_value',
      ],
      [
        'a trailing hyphen',
        'team-',
        "Invalid body parameter 'id': must be 1-40 lowercase letters, digits or hyphens, starting and ending alphanumeric.",
        'invalid_value',
      ],
      [
        '41 characters',
        'a'.repeat(41),
        "Invalid body parameter 'id': must be 1-40 lowercase letters, digits or hyphens, starting and ending alphanumeric.",
        'invalid_value',
      ],
      [
        'a number',
        42,
        "Invalid body parameter 'id': Invalid input: expected string, received number.",
        'invalid_value',
      ],
      ['no id at all', undefined, "Missing required body parameter: 'id'.", 'missing_required_parameter'],
    ];
    for (const [what, id, message, code] of badIds) {
      it(`refuses an id that is ${what} with 400 naming id`, async () => {
        // Prepare
        const teamsBefore = (await p.countRecords()).team;

        // Act
        const response = await createTeam(p.ownerKey, { id, name: 'Whatever' });

        // Assess
        expect(response.status).toBe(400);
        expect(await response.json()).toEqual({
          error: { message, type: 'invalid_request_error', param: 'id', code },
        });
        expect((await p.countRecords()).team).toBe(teamsBefore);
      });
    }

    it('refuses an unknown field with 400 naming it', async () => {
      // Act
      const response = await createTeam(p.ownerKey, { id: 'extra', budget: 100 });

      // Assess
      expect(response.status).toBe(400);
      expect(await response.json()).toEqual({
        error: {
          message: "Unrecognized body parameter: 'budget'.",
          type: 'invalid_request_error',
          param: 'budget',
          code: 'unknown_parameter',
        },
      });
    });

    for (const [role, key] of [
      ['member', () => memberOfMango],
      ['admin', () => adminOfMango],
      ['finance', () => financeOfDefault],
    ] as const) {
      it(`refuses a ${role} key with 403`, async () => {
        // Act
        const response = await createTeam(key(), { id: `by-${role}` });

        // Assess
        expect(response.status).toBe(403);
        expect(((await response.json()) as ErrorBody).error).toEqual({
          message: `${role === 'admin' ? 'An' : 'A'} ${role} key cannot create teams; this needs one of: owner.`,
          type: 'invalid_request_error',
          param: null,
          code: 'insufficient_permissions',
        });
      });
    }
  });

  describe('GET /v1/whetstone/teams', () => {
    it('lists every team to the owner, by id', async () => {
      // Act
      const page = await listTeams(p.ownerKey);

      // Assess
      expect(page.data.map((team) => team.id)).toEqual(['default', 'mango', 'research', 'zebra']);
      expect(page).toMatchObject({ object: 'list', first_id: 'default', last_id: 'zebra', has_more: false });
      expect(page.data[0]).toEqual({
        id: 'default',
        object: 'whetstone.team',
        name: 'Default team',
        created_at: page.data[0]?.created_at,
      });
    });

    it('pages the owner through the teams with limit and after', async () => {
      // Act
      const first = await listTeams(p.ownerKey, '?limit=2');
      const second = await listTeams(p.ownerKey, `?limit=2&after=${first.last_id}`);

      // Assess
      expect(first.data.map((team) => team.id)).toEqual(['default', 'mango']);
      expect(first.has_more).toBe(true);
      expect(second.data.map((team) => team.id)).toEqual(['research', 'zebra']);
      expect(second.has_more).toBe(false);
    });

    for (const [role, key] of [
      ['member', () => memberOfMango],
      ['admin', () => adminOfMango],
    ] as const) {
      it(`shows a ${role} only its own team`, async () => {
        // Act
        const page = await listTeams(key());

        // Assess
        expect(page.data.map((team) => team.id)).toEqual(['mango']);
        expect(page).toMatchObject({ first_id: 'mango', last_id: 'mango', has_more: false });
      });
    }

    it("pages a member's view in the owner's order: its team comes only after a smaller id", async () => {
      // Act
      const afterSmaller = await listTeams(memberOfMango, '?after=default');
      const afterItself = await listTeams(memberOfMango, '?after=mango');
      const afterLarger = await listTeams(memberOfMango, '?after=research');

      // Assess
      expect(afterSmaller.data.map((team) => team.id)).toEqual(['mango']);
      expect(afterItself.data).toEqual([]);
      expect(afterLarger.data).toEqual([]);
    });
  });
});

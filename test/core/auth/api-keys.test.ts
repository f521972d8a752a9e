import { describe, expect, it } from 'vitest';
import {
  canGrantRole,
  generateApiKey,
  hashSecret,
  parseApiKey,
  redactApiKey,
  requireRole,
  secretMatches,
  targetTeam,
} from '../../../lib/core/auth';
import { newId } from '../../../lib/core/ids';

describe('API keys', () => {
  it('round-trips: a generated key parses back to its id, and only its secret matches the stored hash', () => {
    // Prepare
    const keyId = newId('apiKey');

    // Act
    const generated = generateApiKey(keyId);
    const parsed = parseApiKey(generated.value);

    // Assess
    expect(generated.value).toMatch(/^whet_[0-9A-Z]{26}_[A-Za-z0-9_-]{43}$/);
    expect(parsed?.keyId).toBe(keyId);
    expect(secretMatches(parsed?.secret ?? '', generated.secretHash)).toBe(true);
    expect(secretMatches(`${parsed?.secret.slice(0, -1)}x`, generated.secretHash)).toBe(false);
    expect(generated.secretHash).toBe(hashSecret(parsed?.secret ?? ''));
    expect(generated.redactedValue).toBe(`whet_...${generated.value.slice(-4)}`);
  });

  it('refuses anything not shaped like a key', () => {
    // Prepare
    const candidates = [
      '',
      'whet_',
      'sk-abc',
      `whet_${'A'.repeat(26)}_short`,
      `whet_${'a'.repeat(26)}_${'b'.repeat(43)}`,
    ];

    // Act
    const parsed = candidates.map(parseApiKey);

    // Assess
    expect(parsed).toEqual([null, null, null, null, null]);
  });

  it('compares hashes of different lengths as a mismatch, not an exception', () => {
    // Act
    const matches = secretMatches('secret', 'abcd');

    // Assess
    expect(matches).toBe(false);
    expect(redactApiKey('whet_X_abcdef')).toBe('whet_...cdef');
  });
});

describe('permissions', () => {
  const admin = { keyId: 'key_1', team: 'red', role: 'admin' as const };
  const owner = { keyId: 'key_2', team: 'default', role: 'owner' as const };

  it('lets admins grant member and admin only; owners grant every role', () => {
    // Act
    const adminGrants = (['member', 'admin', 'finance', 'owner'] as const).map((role) =>
      canGrantRole(admin, role),
    );
    const ownerGrants = (['member', 'admin', 'finance', 'owner'] as const).map((role) =>
      canGrantRole(owner, role),
    );

    // Assess
    expect(adminGrants).toEqual([true, true, false, false]);
    expect(ownerGrants).toEqual([true, true, true, true]);
  });

  it("answers another team's name with 404 for non-owners", () => {
    // Act
    const refusal = (() => {
      try {
        targetTeam(admin, 'blue');
      } catch (error) {
        return error as { statusCode: number; message: string; param: string };
      }
    })();

    // Assess
    expect(targetTeam(admin, undefined)).toBe('red');
    expect(targetTeam(admin, 'red')).toBe('red');
    expect(targetTeam(owner, 'blue')).toBe('blue');
    expect(refusal).toMatchObject({ statusCode: 404, message: 'No such team: blue', param: 'team' });
  });

  it('names the role and the roles needed when refusing', () => {
    // Act
    const act = () => requireRole({ ...admin, role: 'finance' }, ['member', 'admin'], 'upload files');

    // Assess
    expect(act).toThrow('A finance key cannot upload files; this needs one of: member, admin.');
  });
});

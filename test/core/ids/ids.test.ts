import { describe, expect, it } from 'vitest';
import { isId, newId, TEAM_ID_PATTERN } from '../../../lib/core/ids';

describe('ids', () => {
  it('sort by creation time as plain strings, even within one millisecond', () => {
    // Prepare
    const now = 1_790_000_000_000;

    // Act
    const ids = [newId('file', now), newId('file', now), newId('file', now + 1), newId('file', now + 1000)];

    // Assess
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(4);
    expect(ids.every((id) => isId('file', id))).toBe(true);
  });

  it('carry their kind, and a prefix of another kind is not an id', () => {
    // Act
    const upload = newId('upload');

    // Assess
    expect(upload).toMatch(/^upload_[0-9A-Z]{26}$/);
    expect(isId('upload', upload)).toBe(true);
    expect(isId('file', upload)).toBe(false);
    expect(isId('file', 'file-abc')).toBe(false);
  });

  it('keep team ids to a safe alphabet', () => {
    // Act
    const accepted = ['default', 'a', 'team-7', 'x'.repeat(40)].map((id) => TEAM_ID_PATTERN.test(id));
    const refused = ['', 'Team', '-a', 'a-', 'a/b', 'x'.repeat(41), 'a b'].map((id) =>
      TEAM_ID_PATTERN.test(id),
    );

    // Assess
    expect(accepted).toEqual([true, true, true, true]);
    expect(refused).toEqual([false, false, false, false, false, false, false]);
  });
});

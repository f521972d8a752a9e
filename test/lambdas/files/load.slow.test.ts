import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chatDataset, fileForm, startTestPlatform, type TestPlatform } from '../../helpers/platform';

const TEAMS = ['load-a', 'load-b', 'load-c', 'load-d'];
const FILES_PER_TEAM = 50;
const CONCURRENCY = 16;

/** Runs `tasks` with at most `limit` in flight. */
async function pooled<T>(tasks: (() => Promise<T>)[], limit: number): Promise<T[]> {
  const results: T[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < tasks.length) {
        const index = next++;
        results[index] = await (tasks[index] as () => Promise<T>)();
      }
    }),
  );
  return results;
}

describe('files under load', () => {
  let platform: TestPlatform;
  let keys: string[];
  beforeAll(async () => {
    platform = await startTestPlatform();
    keys = [];
    for (const team of TEAMS) keys.push(await platform.createTeamKey(team));
  });
  afterAll(async () => platform?.stop());

  it(`stores ${TEAMS.length * FILES_PER_TEAM} concurrent uploads from ${TEAMS.length} teams, each team seeing only its own`, async () => {
    // Prepare
    const tasks = keys.flatMap((key, team) =>
      Array.from({ length: FILES_PER_TEAM }, (_, index) => async () => {
        const response = await platform.call(key, 'POST', '/v1/files', {
          body: fileForm(chatDataset(10 + (index % 5)), `t${team}-${index}.jsonl`),
        });
        return { status: response.status, id: ((await response.json()) as { id: string }).id };
      }),
    );

    // Act
    const results = await pooled(tasks, CONCURRENCY);
    const listings = await Promise.all(
      keys.map(async (key) => {
        const response = await platform.call(key, 'GET', '/v1/files?limit=100');
        return ((await response.json()) as { data: { id: string; filename: string }[] }).data;
      }),
    );

    // Assess
    expect(results.every((result) => result.status === 200)).toBe(true);
    expect(new Set(results.map((result) => result.id)).size).toBe(TEAMS.length * FILES_PER_TEAM);
    for (const [team, listing] of listings.entries()) {
      expect(listing).toHaveLength(FILES_PER_TEAM);
      expect(listing.every((file) => file.filename.startsWith(`t${team}-`))).toBe(true);
    }
    expect((await platform.countRecords()).file).toBe(TEAMS.length * FILES_PER_TEAM);
    expect((await platform.listObjects()).length).toBe(TEAMS.length * FILES_PER_TEAM);
  });
});

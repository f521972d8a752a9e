import type { IdempotencyRecord, IdempotencyStore } from '../../lib/adapters';

/** An in-memory idempotency store for middleware tests: replays what `complete` kept, as the DynamoDB store does. */
export function memoryIdempotencyStore(): IdempotencyStore {
  const records = new Map<string, IdempotencyRecord>();
  return {
    async claim(team, key, claim) {
      const existing = records.get(`${team}#${key}`);
      if (existing) return { claimed: false, existing };
      records.set(`${team}#${key}`, { key, fingerprint: claim.fingerprint, state: 'in_progress' });
      return { claimed: true, token: 'token' };
    },
    async complete(team, key, _token, response) {
      const held = records.get(`${team}#${key}`);
      if (!held) return false;
      records.set(`${team}#${key}`, { ...held, state: 'completed', response });
      return true;
    },
    async release(team, key) {
      records.delete(`${team}#${key}`);
    },
  };
}

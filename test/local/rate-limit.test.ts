import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CreatedApiKey } from '../../lib/core/schemas';
import { startTestPlatform, type TestPlatform } from '../helpers/platform';

describe('local gateway rate limit', () => {
  let p: TestPlatform;

  beforeAll(async () => {
    // One request a second with bursts of three: a fourth quick request is over the limit.
    p = await startTestPlatform({ rateLimit: { ratePerSecond: 1, burst: 3 } });
  });
  afterAll(async () => p?.stop());

  const createMemberKey = async () => {
    const response = await p.call(p.ownerKey, 'POST', '/v1/whetstone/keys', {
      body: JSON.stringify({ role: 'member' }),
      headers: { 'Content-Type': 'application/json' },
    });
    expect(response.status).toBe(200);
    return ((await response.json()) as CreatedApiKey).value;
  };

  it('answers the fourth quick request of a key with 429 and Retry-After, and not another key', async () => {
    // Prepare
    // Fresh keys, each with a full bucket of its own; the owner spent two of its tokens on them.
    const busy = await createMemberKey();
    const quiet = await createMemberKey();

    // Act
    // Sent together, so the four reach the bucket well within the second a token takes to refill.
    const burst = await Promise.all(Array.from({ length: 4 }, () => p.call(busy, 'GET', '/v1/files')));
    const other = await p.call(quiet, 'GET', '/v1/files');

    // Assess
    expect(burst.map((response) => response.status).sort()).toEqual([200, 200, 200, 429]);
    const throttled = burst.find((response) => response.status === 429) as Response;
    expect(Number(throttled.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(await throttled.json()).toEqual({
      error: {
        message: `Too many requests for this API key; retry after ${throttled.headers.get('retry-after')} s.`,
        type: 'rate_limit_error',
        param: null,
        code: 'rate_limit_exceeded',
      },
    });
    expect(other.status).toBe(200);
  });

  it('does not throttle /healthz', async () => {
    // Act
    const responses = await Promise.all(Array.from({ length: 5 }, () => p.call(null, 'GET', '/healthz')));

    // Assess
    expect(responses.map((response) => response.status)).toEqual([200, 200, 200, 200, 200]);
  });
});

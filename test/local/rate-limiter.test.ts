import { describe, expect, it } from 'vitest';
import { TokenBucketLimiter } from '../../lib/local/rate-limiter';

describe('TokenBucketLimiter', () => {
  it('allows a burst, then refills at the steady rate, per key', () => {
    // Prepare
    let now = 0;
    const limiter = new TokenBucketLimiter(2, 3, () => now);

    // Act
    const burst = [1, 2, 3, 4].map(() => limiter.take('a'));
    const otherKey = limiter.take('b');
    now = 500;
    const afterHalfSecond = limiter.take('a');
    const immediatelyAgain = limiter.take('a');

    // Assess
    expect(burst.map((verdict) => verdict.allowed)).toEqual([true, true, true, false]);
    expect(burst[3]?.retryAfterSeconds).toBe(1);
    expect(otherKey.allowed).toBe(true);
    expect(afterHalfSecond.allowed).toBe(true);
    expect(immediatelyAgain).toEqual({ allowed: false, retryAfterSeconds: 1 });
  });

  it('says how long to wait when the rate is slow', () => {
    // Prepare
    const limiter = new TokenBucketLimiter(0.1, 1, () => 0);
    limiter.take('a');

    // Act
    const verdict = limiter.take('a');

    // Assess
    expect(verdict).toEqual({ allowed: false, retryAfterSeconds: 10 });
  });

  it('refuses a configuration that could never allow a request', () => {
    // Act
    const act = () => new TokenBucketLimiter(0, 1);

    // Assess
    expect(act).toThrow('rate limit needs ratePerSecond > 0 and burst >= 1, got 0 and 1');
  });
});

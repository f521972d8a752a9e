export interface RateLimitVerdict {
  readonly allowed: boolean;
  /** Whole seconds until a request would be allowed; 0 when allowed. */
  readonly retryAfterSeconds: number;
}

/**
 * A token bucket per key, as API Gateway's usage plans throttle: `ratePerSecond` steady, bursts
 * up to `burst`. Buckets idle long enough to be full are dropped, so memory follows active keys.
 */
export class TokenBucketLimiter {
  private readonly buckets = new Map<string, { tokens: number; updatedAt: number }>();

  constructor(
    private readonly ratePerSecond: number,
    private readonly burst: number,
    private readonly now: () => number = () => Date.now(),
  ) {
    if (!(ratePerSecond > 0) || !(burst >= 1)) {
      throw new RangeError(
        `rate limit needs ratePerSecond > 0 and burst >= 1, got ${ratePerSecond} and ${burst}`,
      );
    }
  }

  take(key: string): RateLimitVerdict {
    const now = this.now();
    const bucket = this.buckets.get(key) ?? { tokens: this.burst, updatedAt: now };
    bucket.tokens = Math.min(
      this.burst,
      bucket.tokens + ((now - bucket.updatedAt) / 1000) * this.ratePerSecond,
    );
    bucket.updatedAt = now;
    this.buckets.set(key, bucket);
    this.evictFullBuckets(now);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { allowed: true, retryAfterSeconds: 0 };
    }
    return {
      allowed: false,
      retryAfterSeconds: Math.max(1, Math.ceil((1 - bucket.tokens) / this.ratePerSecond)),
    };
  }

  private evictFullBuckets(now: number): void {
    if (this.buckets.size < 10_000) return;
    const fullAfterMs = (this.burst / this.ratePerSecond) * 1000;
    for (const [key, bucket] of this.buckets) {
      if (now - bucket.updatedAt > fullAfterMs) this.buckets.delete(key);
    }
  }
}

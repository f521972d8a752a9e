import { describe, expect, it } from 'vitest';
import { waitFor } from '../../../lib/local/services/ports';

describe('waitFor', () => {
  it('keeps probing while the probe says not ready, and returns once it says ready', async () => {
    // Prepare
    let probes = 0;
    const probe = async () => {
      probes += 1;
      return probes === 3;
    };

    // Act
    await waitFor('the thing', probe, 5_000);

    // Assess
    expect(probes).toBe(3);
  });

  it('fails at once with the error a probe throws, instead of waiting out the timeout', async () => {
    // Prepare
    let probes = 0;
    const probe = async () => {
      probes += 1;
      throw new Error('DynamoDB Local exited with 1');
    };
    const started = Date.now();

    // Act
    const failure = await waitFor('DynamoDB Local', probe, 60_000).catch((error: unknown) => error);

    // Assess
    expect(failure).toEqual(new Error('DynamoDB Local exited with 1'));
    expect(probes).toBe(1);
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it('names the thing and the timeout when it never becomes ready', async () => {
    // Act
    const failure = await waitFor('the S3 server', async () => false, 250).catch((error: unknown) => error);

    // Assess
    expect(failure).toEqual(new Error('the S3 server did not become ready within 250 ms'));
  });
});

import { describe, expect, it } from 'vitest';
import { PortTakenError, startOnFreePort, waitFor } from '../../../lib/local/services/ports';

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

describe('startOnFreePort', () => {
  it('chooses another port when the one chosen was taken before the service bound it', async () => {
    // Prepare
    const tried: number[] = [];
    const start = async (port: number) => {
      tried.push(port);
      if (tried.length < 3) throw new PortTakenError('DynamoDB Local', port, 'Address already in use');
      return `started on ${port}`;
    };

    // Act
    const started = await startOnFreePort(start);

    // Assess
    expect(tried).toHaveLength(3);
    expect(new Set(tried).size).toBeGreaterThan(1);
    expect(started).toBe(`started on ${tried[2]}`);
  });

  it('gives up after the attempts it was given, with the last PortTakenError', async () => {
    // Prepare
    let attempts = 0;
    const start = async (port: number): Promise<never> => {
      attempts += 1;
      throw new PortTakenError('The S3 server', port, 'listen EADDRINUSE');
    };

    // Act
    const failure = await startOnFreePort(start, 2).catch((error: unknown) => error);

    // Assess
    expect(attempts).toBe(2);
    expect(failure).toBeInstanceOf(PortTakenError);
    expect((failure as PortTakenError).message).toMatch(
      /^The S3 server could not bind 127\.0\.0\.1:\d+, which another process took:\nlisten EADDRINUSE$/,
    );
  });

  it('does not retry a failure that is not a taken port', async () => {
    // Prepare
    let attempts = 0;
    const start = async (): Promise<never> => {
      attempts += 1;
      throw new Error('DynamoDB Local exited with 1');
    };

    // Act
    const failure = await startOnFreePort(start).catch((error: unknown) => error);

    // Assess
    expect(attempts).toBe(1);
    expect(failure).toEqual(new Error('DynamoDB Local exited with 1'));
  });
});

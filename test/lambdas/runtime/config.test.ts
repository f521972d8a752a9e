import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../lambdas/runtime/config';

describe('loadConfig', () => {
  it('reads the table, bucket and environment', () => {
    // Act
    const config = loadConfig({ WHETSTONE_TABLE: 't', WHETSTONE_BUCKET: 'b', WHETSTONE_ENV: 'local' });

    // Assess
    expect(config).toEqual({
      tableName: 't',
      bucketName: 'b',
      environment: 'local',
      idempotencyTtlSeconds: 86_400,
    });
  });

  it('fails fast naming the variable that is missing or wrong', () => {
    // Act
    const missing = () => loadConfig({ WHETSTONE_BUCKET: 'b' });
    const badEnvironment = () =>
      loadConfig({ WHETSTONE_TABLE: 't', WHETSTONE_BUCKET: 'b', WHETSTONE_ENV: 'prod' });
    const badTtl = () =>
      loadConfig({ WHETSTONE_TABLE: 't', WHETSTONE_BUCKET: 'b', WHETSTONE_IDEMPOTENCY_TTL_SECONDS: '1.5' });

    // Assess
    expect(missing).toThrow('WHETSTONE_TABLE is not set');
    expect(badEnvironment).toThrow("WHETSTONE_ENV must be 'aws' or 'local', not 'prod'");
    expect(badTtl).toThrow("WHETSTONE_IDEMPOTENCY_TTL_SECONDS must be a positive integer, not '1.5'");
  });
});

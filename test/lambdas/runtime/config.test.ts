import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../lambdas/runtime/config';

describe('loadConfig', () => {
  it('reads the table, bucket and environment', () => {
    // Act
    const config = loadConfig({
      WHETSTONE_TABLE: 't',
      WHETSTONE_BUCKET: 'b',
      WHETSTONE_ENV: 'local',
      WHETSTONE_DATA_DIR: '/data',
      WHETSTONE_TRAINER_ENTRY: '/trainer/main.js',
    });

    // Assess
    expect(config).toEqual({
      tableName: 't',
      bucketName: 'b',
      environment: 'local',
      idempotencyTtlSeconds: 86_400,
      maxRunningJobsPerTeam: 4,
      compute: { kind: 'local', dataDir: '/data', trainerEntry: '/trainer/main.js', concurrency: 2 },
      webhooks: {
        queueUrl: undefined,
        eventBusName: undefined,
        retryBaseSeconds: 10,
        maxAttempts: 6,
        allowPrivateDestinations: true,
      },
    });
  });

  it('reads the Batch queues in AWS, keyed by GPU type and market', () => {
    // Act
    const config = loadConfig({
      WHETSTONE_TABLE: 't',
      WHETSTONE_BUCKET: 'b',
      WHETSTONE_JOB_QUEUES: JSON.stringify({ 'a10g:spot': { queue: 'q1', jobDefinition: 'd1' } }),
    });
    const badKey = () =>
      loadConfig({
        WHETSTONE_TABLE: 't',
        WHETSTONE_BUCKET: 'b',
        WHETSTONE_JOB_QUEUES: JSON.stringify({ 'tpu:spot': { queue: 'q1', jobDefinition: 'd1' } }),
      });

    // Assess
    expect(config.compute).toEqual({
      kind: 'batch',
      queues: { 'a10g:spot': { queue: 'q1', jobDefinition: 'd1' } },
    });
    expect(badKey).toThrow(
      "WHETSTONE_JOB_QUEUES is invalid at 'tpu:spot': keys must be '{gpu_type}:{market}', e.g. 'a10g:spot'",
    );
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

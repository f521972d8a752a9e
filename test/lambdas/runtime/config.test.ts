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
      corsOrigins: [],
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

  it('takes queue and job definition ARNs, in as many regions as the queues live in', () => {
    // Prepare
    const queues = {
      'a10g:spot': {
        queue: 'arn:aws:batch:us-west-2:123456789012:job-queue/whetstone-a10g-spot',
        jobDefinition: 'arn:aws:batch:us-west-2:123456789012:job-definition/whetstone-trainer-a10g',
      },
      'none:on-demand': {
        queue: 'arn:aws:batch:us-east-1:123456789012:job-queue/whetstone-none-on-demand',
        jobDefinition: 'arn:aws:batch:us-east-1:123456789012:job-definition/whetstone-trainer-none:2',
      },
    };

    // Act
    const config = loadConfig({
      WHETSTONE_TABLE: 't',
      WHETSTONE_BUCKET: 'b',
      WHETSTONE_JOB_QUEUES: JSON.stringify(queues),
    });

    // Assess
    expect(config.compute).toEqual({ kind: 'batch', queues });
  });

  it('refuses a malformed queue or job definition, naming the variable, the key and the field', () => {
    // Prepare
    const load = (target: { queue: string; jobDefinition: string }) => () =>
      loadConfig({
        WHETSTONE_TABLE: 't',
        WHETSTONE_BUCKET: 'b',
        WHETSTONE_JOB_QUEUES: JSON.stringify({ 'a10g:spot': target }),
      });
    const queue = 'arn:aws:batch:us-west-2:123456789012:job-queue/whetstone-a10g-spot';

    // Act
    const badQueue = load({
      queue: 'arn:aws:batch:us-west-2:job-queue/whetstone-a10g-spot',
      jobDefinition: 'd',
    });
    const badDefinition = load({ queue, jobDefinition: 'arn:aws:batch:us-west-2:123456789012:job-queue/d' });
    const otherRegion = load({
      queue,
      jobDefinition: 'arn:aws:batch:eu-west-1:123456789012:job-definition/whetstone-trainer-a10g',
    });

    // Assess
    expect(badQueue).toThrow(
      "WHETSTONE_JOB_QUEUES is invalid at 'a10g:spot.queue': must be a job queue name or ARN (arn:aws:batch:{region}:{account}:job-queue/{name}), not 'arn:aws:batch:us-west-2:job-queue/whetstone-a10g-spot'",
    );
    expect(badDefinition).toThrow(
      "WHETSTONE_JOB_QUEUES is invalid at 'a10g:spot.jobDefinition': must be a job definition name, name:revision or ARN (arn:aws:batch:{region}:{account}:job-definition/{name}[:{revision}]), not 'arn:aws:batch:us-west-2:123456789012:job-queue/d'",
    );
    expect(otherRegion).toThrow(
      "WHETSTONE_JOB_QUEUES is invalid at 'a10g:spot.jobDefinition': must be in the queue's region and account (us-west-2, 123456789012), not (eu-west-1, 123456789012)",
    );
  });

  it('reads the CORS origins as browsers send them, once each', () => {
    // Act
    const config = loadConfig({
      WHETSTONE_TABLE: 't',
      WHETSTONE_BUCKET: 'b',
      WHETSTONE_ENV: 'local',
      WHETSTONE_CORS_ORIGINS:
        ' https://Console.Example.com/ ,http://localhost:5173,,https://console.example.com:443',
    });
    const unset = loadConfig({ WHETSTONE_TABLE: 't', WHETSTONE_BUCKET: 'b', WHETSTONE_ENV: 'local' });

    // Assess
    expect(config.corsOrigins).toEqual(['https://console.example.com', 'http://localhost:5173']);
    expect(unset.corsOrigins).toEqual([]);
  });

  it.each([
    'https://console.example.com/app',
    'https://console.example.com?x=1',
    'https://*.example.com',
    '*',
    'console.example.com',
    'ftp://console.example.com',
    'https://user:secret@console.example.com',
    'null',
  ])('refuses %j as a CORS origin, naming the variable', (origin) => {
    // Act
    const load = () =>
      loadConfig({
        WHETSTONE_TABLE: 't',
        WHETSTONE_BUCKET: 'b',
        WHETSTONE_CORS_ORIGINS: `https://ok.example.com,${origin}`,
      });

    // Assess
    expect(load).toThrow(
      `WHETSTONE_CORS_ORIGINS must be comma-separated origins such as https://console.example.com, not '${origin}'`,
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

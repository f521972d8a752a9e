import { join } from 'node:path';
import { BatchClient } from '@aws-sdk/client-batch';
import { BatchLauncher, type ComputeEventSink, type Launcher, LocalLauncher } from '../../lib/adapters';
import type { RuntimeConfig } from './config';

/** The variables a local trainer needs to reach the same DynamoDB Local and S3 server as the handlers. */
const LOCAL_TRAINER_ENV = [
  'AWS_ENDPOINT_URL_DYNAMODB',
  'AWS_ENDPOINT_URL_S3',
  'AWS_REGION',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
] as const;

/**
 * AWS Batch in AWS. Locally, trainer child processes whose state changes go to `sink`, the
 * events handler EventBridge would invoke.
 */
export function createLauncher(
  config: RuntimeConfig,
  env: NodeJS.ProcessEnv,
  sink: ComputeEventSink,
): Launcher {
  if (config.compute.kind === 'batch') {
    return new BatchLauncher(new BatchClient({}), config.compute.queues, {
      tableName: config.tableName,
      bucketName: config.bucketName,
    });
  }
  return new LocalLauncher({
    trainerEntry: config.compute.trainerEntry,
    env: {
      WHETSTONE_TABLE: config.tableName,
      WHETSTONE_BUCKET: config.bucketName,
      ...Object.fromEntries(LOCAL_TRAINER_ENV.flatMap((name) => (env[name] ? [[name, env[name]]] : []))),
    },
    logDir: join(config.compute.dataDir, 'jobs'),
    concurrency: config.compute.concurrency,
    sink,
  });
}

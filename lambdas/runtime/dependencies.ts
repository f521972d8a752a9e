import {
  createDocumentClient,
  createS3Client,
  DynamoApiKeyStore,
  DynamoAuditStore,
  DynamoCheckpointStore,
  DynamoFileStore,
  DynamoIdempotencyStore,
  DynamoJobEventStore,
  DynamoJobStore,
  DynamoModelStore,
  DynamoTeamStore,
  DynamoUploadStore,
  DynamoWebhookStore,
  LocalDeliveryQueue,
  LocalLauncher,
  S3ObjectStore,
} from '../../lib/adapters';
import type { JobDeps } from '../jobs/deps';
import { notifyJobStatus } from '../webhooks/notify';
import { createDeliveryQueue, createEventPublisher } from '../webhooks/wiring';
import { loadConfig } from './config';
import { writeToStdout } from './emf';
import { localInvocationContext } from './invocation';
import { createLauncher } from './launcher';

/**
 * Built once per process, at module load, and shared by every handler in it: SDK clients keep
 * their connections warm across invocations.
 */
export const config = loadConfig(process.env);

const documentClient = createDocumentClient();
const s3Client = createS3Client({ forcePathStyle: config.environment === 'local' });

export const stores = {
  teams: new DynamoTeamStore(documentClient, config.tableName),
  apiKeys: new DynamoApiKeyStore(documentClient, config.tableName),
  files: new DynamoFileStore(documentClient, config.tableName),
  uploads: new DynamoUploadStore(documentClient, config.tableName),
  audit: new DynamoAuditStore(documentClient, config.tableName),
  idempotency: new DynamoIdempotencyStore(documentClient, config.tableName),
  models: new DynamoModelStore(documentClient, config.tableName),
  jobs: new DynamoJobStore(documentClient, config.tableName),
  jobEvents: new DynamoJobEventStore(documentClient, config.tableName),
  checkpoints: new DynamoCheckpointStore(documentClient, config.tableName),
  objects: new S3ObjectStore(s3Client, config.bucketName),
  webhooks: new DynamoWebhookStore(documentClient, config.tableName),
} as const;

/**
 * Where webhook deliveries wait between attempts (see `createDeliveryQueue`). The local queue
 * loads the deliverer only when a delivery is first due, since the deliverer itself reads this module.
 */
export const deliveryQueue = createDeliveryQueue(config, async (event) =>
  (await import('../webhooks/deliver')).handler(event),
);
export const eventPublisher = createEventPublisher(config);

/**
 * Locally the launcher hands its state changes to the events handler, as EventBridge does in
 * AWS; the handler module is loaded on first use, since it reads this module itself.
 */
export const launcher = createLauncher(config, process.env, async (event) => {
  const { handler } = await import('../events/batch-state-change');
  await handler(event, localInvocationContext('events-batch-state-change', 60_000));
});

/**
 * Where handlers write EMF metric lines: stdout in AWS, for CloudWatch Logs to extract. Locally
 * there is no CloudWatch, and the lines would only crowd the terminal `whet start` serves in.
 */
export const writeMetrics: (line: string) => void =
  config.environment === 'aws' ? writeToStdout : () => undefined;

export const jobDeps: JobDeps = {
  stores,
  launcher,
  settings: { bucketName: config.bucketName, maxRunningJobsPerTeam: config.maxRunningJobsPerTeam },
  notify: (team, job, now) => notifyJobStatus({ stores, deliveryQueue, eventPublisher }, team, job, now),
  now: () => Date.now(),
  log: (message, details) => console.error(JSON.stringify({ level: 'error', message, ...details })),
};

/**
 * Stops the process's background work: local trainer processes (their end reaches the events
 * handler first) and webhook deliveries waiting in process. In AWS there is none.
 */
export async function stopBackgroundWork(): Promise<void> {
  if (launcher instanceof LocalLauncher) await launcher.shutdown();
  if (deliveryQueue instanceof LocalDeliveryQueue) await deliveryQueue.shutdown();
}

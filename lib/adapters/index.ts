export { type ApiKeyStore, DynamoApiKeyStore, type StoredApiKey } from './dynamodb/api-keys-store';
export { type AuditStore, DynamoAuditStore } from './dynamodb/audit-store';
export { createDocumentClient, type DocumentClientOptions } from './dynamodb/client';
export { DynamoFileStore, type FileListQuery, type FileStore } from './dynamodb/files-store';
export {
  type ClaimResult,
  DynamoIdempotencyStore,
  type IdempotencyClaim,
  type IdempotencyRecord,
  type IdempotencyStore,
  type StoredResponse,
} from './dynamodb/idempotency-store';
export {
  type CheckpointStore,
  DynamoCheckpointStore,
  DynamoJobEventStore,
  type JobEventStore,
  type JobPageQuery,
} from './dynamodb/job-events-store';
export {
  DynamoJobStore,
  type JobListQuery,
  type JobStore,
  type SlotWriteResult,
  type StoredJob,
  storedJobSchema,
} from './dynamodb/jobs-store';
export { DynamoModelStore, type ModelStore } from './dynamodb/models-store';
export { everyItem, type Page } from './dynamodb/query';
export { GSI1, keys, TTL_ATTRIBUTE, tableDefinition } from './dynamodb/table';
export { DynamoTeamStore, type TeamStore } from './dynamodb/teams-store';
export {
  DynamoUploadStore,
  type StoredUpload,
  type StoredUploadPart,
  type StoredUploadStatus,
  type UploadStore,
} from './dynamodb/uploads-store';
export {
  type DeliveryAttemptRecord,
  DynamoWebhookStore,
  type StoredWebhookEndpoint,
  type WebhookDeliveryListQuery,
  type WebhookPageQuery,
  type WebhookStore,
} from './dynamodb/webhooks-store';
export {
  batchTargetProblem,
  JOB_DEFINITION_FORMS,
  JOB_QUEUE_FORMS,
  jobDefinitionLocation,
  jobQueueLocation,
} from './launchers/batch-arn';
export {
  BatchLauncher,
  type BatchLauncherOptions,
  type BatchQueue,
  type BatchQueues,
  batchRetryStrategy,
  computeJobName,
  computeTags,
} from './launchers/batch-launcher';
export {
  InvalidLauncherOptionsError,
  LauncherClosedError,
  LauncherError,
  LaunchFailedError,
  TerminateFailedError,
} from './launchers/errors';
export type {
  ComputeEventSink,
  ComputeJobRef,
  Launcher,
  LaunchRequest,
  LaunchResult,
} from './launchers/launcher';
export {
  LocalLauncher,
  type LocalLauncherOptions,
  SHUTDOWN_BEFORE_START_REASON,
  SHUTDOWN_REASON,
} from './launchers/local-launcher';
export {
  type DeliveryMessage,
  type DeliveryQueue,
  deliveryMessageSchema,
  EVENT_SOURCE,
  EventBridgePublisher,
  type EventPublisher,
  LocalDeliveryQueue,
  type LocalDeliveryQueueOptions,
  NoEventPublisher,
  SQS_MAX_DELAY_SECONDS,
  type SqsConsumer,
  SqsDeliveryQueue,
  UnavailableDeliveryQueue,
} from './notifications';
export { createS3Client, type S3ClientOptions } from './s3/client';
export {
  type CompletedPart,
  contentDisposition,
  type ObjectBody,
  type ObjectStore,
  S3ObjectStore,
} from './s3/object-store';

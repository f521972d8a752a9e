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
export type { Page } from './dynamodb/query';
export { GSI1, keys, TTL_ATTRIBUTE, tableDefinition } from './dynamodb/table';
export { DynamoTeamStore, type TeamStore } from './dynamodb/teams-store';
export {
  DynamoUploadStore,
  type StoredUpload,
  type StoredUploadPart,
  type StoredUploadStatus,
  type UploadStore,
} from './dynamodb/uploads-store';
export { createS3Client, type S3ClientOptions } from './s3/client';
export {
  type CompletedPart,
  contentDisposition,
  type ObjectBody,
  type ObjectStore,
  S3ObjectStore,
} from './s3/object-store';

import {
  createDocumentClient,
  createS3Client,
  DynamoApiKeyStore,
  DynamoAuditStore,
  DynamoFileStore,
  DynamoIdempotencyStore,
  DynamoTeamStore,
  DynamoUploadStore,
  S3ObjectStore,
} from '../../lib/adapters';
import { loadConfig } from './config';

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
  objects: new S3ObjectStore(s3Client, config.bucketName),
} as const;

export {
  type CreateApiKeyParams,
  type CreateFileParams,
  type CreateTeamParams,
  type DeletedFile,
  type FilePurpose,
  type ListApiKeysParams,
  type ListAuditParams,
  type ListFilesParams,
  type MutationOptions,
  type PageParams,
  type RevokeApiKeyParams,
  type RevokedApiKey,
  WhetstoneClient,
  type WhetstoneClientOptions,
} from './client';
export { WhetstoneApiError, WhetstoneConnectionError } from './errors';

import { z } from 'zod';
import { pageQuerySchema } from '../core/schemas';
import type { ResponseName } from './responses';

/** A download: the bytes themselves, or a 302 to a presigned URL where they are too large to carry. */
export interface DownloadResponse {
  readonly download: string;
}

/** What the document says about one route beyond what its `ROUTE_SPECS` entry already tells. */
export interface OperationDoc {
  /** OpenAI's own operation id where the route is OpenAI's, so generated clients read alike. */
  readonly operationId: string;
  readonly summary: string;
  readonly description?: string;
  /** The component a 200 carries, or a download. */
  readonly response: ResponseName | DownloadResponse;
  /**
   * The query string as parameters, for a route whose own query schema cannot be read as a list
   * of named parameters (one that takes patterns of names, say). A test holds it to the route's schema.
   */
  readonly query?: z.ZodObject;
  /** Query parameters sent as `name[key]=value`, as OpenAI's SDK writes an object into a query string. */
  readonly deepObjectQuery?: readonly string[];
}

/** Tag of each route module's folder, in the order the document lists them. */
export const TAGS: Readonly<Record<string, { readonly name: string; readonly description: string }>> = {
  files: {
    name: 'Files',
    description: "Training files (JSONL), validated when uploaded; OpenAI's Files API.",
  },
  uploads: {
    name: 'Uploads',
    description:
      "Large files in parts: OpenAI's Uploads API, and presigned S3 parts beyond the gateway's limit.",
  },
  jobs: {
    name: 'Fine-tuning',
    description: "Fine-tuning jobs, their events, checkpoints and artifacts; OpenAI's Fine-tuning API.",
  },
  models: { name: 'Models', description: "Registered base models and the team's fine-tuned models." },
  teams: { name: 'Teams', description: 'Teams: every key, file, job and model belongs to one.' },
  keys: { name: 'API keys', description: 'API keys, each with a team and a role.' },
  audit: { name: 'Audit', description: 'The record of every mutating call.' },
  webhooks: {
    name: 'Webhooks',
    description: "Endpoints notified when a job ends or pauses, and the team's delivery log.",
  },
};

export const HEALTH_TAG = { name: 'Health', description: 'Liveness, answered without a key.' } as const;

/** Every route's words and response, keyed by its module as `ROUTES` and `ROUTE_SPECS` are. */
export const OPERATIONS: Readonly<Record<string, OperationDoc>> = {
  'files/create': {
    operationId: 'createFile',
    summary: 'Upload a training file',
    description:
      'A JSONL file in a multipart form. It is validated as it is stored: `status` is `processed`, or `error` with the reasons in `status_details` and `whetstone.validation`. Files beyond what one request carries go through uploads.',
    response: 'FileObject',
  },
  'files/list': { operationId: 'listFiles', summary: "List the team's files", response: 'FileList' },
  'files/get': { operationId: 'retrieveFile', summary: 'Retrieve a file', response: 'FileObject' },
  'files/delete': { operationId: 'deleteFile', summary: 'Delete a file', response: 'DeletedFile' },
  'files/content': {
    operationId: 'downloadFile',
    summary: "Download a file's content",
    response: { download: "The file's bytes" },
  },
  'uploads/create': {
    operationId: 'createUpload',
    summary: 'Start an upload',
    description: 'An upload expires an hour after it is created.',
    response: 'Upload',
  },
  'uploads/add-part': {
    operationId: 'addUploadPart',
    summary: 'Add a part to an upload',
    description: 'Every part but the last must be at least 5 MiB, as S3 requires of a multipart part.',
    response: 'UploadPart',
  },
  'uploads/complete': {
    operationId: 'completeUpload',
    summary: 'Complete an upload',
    description:
      'Makes the file from the parts named in `part_ids`, listed in the order they were uploaded; it is validated as any uploaded file.',
    response: 'Upload',
  },
  'uploads/cancel': { operationId: 'cancelUpload', summary: 'Cancel an upload', response: 'Upload' },
  'uploads/create-presigned': {
    operationId: 'createPresignedUpload',
    summary: 'Start an upload with presigned part URLs',
    description:
      "Whetstone's extension for files beyond what the API gateway carries: PUT each byte range to its part's URL, then complete with the ETags S3 returned.",
    response: 'PresignedUpload',
  },
  'uploads/complete-presigned': {
    operationId: 'completePresignedUpload',
    summary: 'Complete an upload made with presigned part URLs',
    response: 'Upload',
  },
  'jobs/create': {
    operationId: 'createFineTuningJob',
    summary: 'Create a fine-tuning job',
    description:
      "OpenAI's create parameters, plus Whetstone's training options in the `whetstone` object. Files and model are checked before the job is queued.",
    response: 'FineTuningJob',
  },
  'jobs/list': {
    operationId: 'listPaginatedFineTuningJobs',
    summary: "List the team's fine-tuning jobs",
    description: 'Newest first.',
    response: 'FineTuningJobList',
    query: pageQuerySchema.extend({
      metadata: z
        .record(z.string().min(1).max(64), z.string())
        .optional()
        .describe(
          'Only jobs whose metadata holds every pair given, as `metadata[key]=value`; at most 16 keys.',
        ),
    }),
    deepObjectQuery: ['metadata'],
  },
  'jobs/get': {
    operationId: 'retrieveFineTuningJob',
    summary: 'Retrieve a fine-tuning job',
    response: 'FineTuningJob',
  },
  'jobs/cancel': {
    operationId: 'cancelFineTuningJob',
    summary: 'Cancel a fine-tuning job',
    description: 'Stops the job for good; a running attempt is checkpointed first.',
    response: 'FineTuningJob',
  },
  'jobs/pause': {
    operationId: 'pauseFineTuningJob',
    summary: 'Pause a fine-tuning job',
    description: 'Checkpoints the running attempt and stops it; resume relaunches from that checkpoint.',
    response: 'FineTuningJob',
  },
  'jobs/resume': {
    operationId: 'resumeFineTuningJob',
    summary: 'Resume a paused fine-tuning job',
    description: 'Relaunches the job from its newest checkpoint.',
    response: 'FineTuningJob',
  },
  'jobs/events': {
    operationId: 'listFineTuningEvents',
    summary: "List a fine-tuning job's events",
    description:
      'Newest first; every status change is among them, and `metrics` events carry training progress.',
    response: 'FineTuningJobEventList',
  },
  'jobs/checkpoints': {
    operationId: 'listFineTuningJobCheckpoints',
    summary: "List a fine-tuning job's checkpoints",
    description: 'Newest first.',
    response: 'FineTuningJobCheckpointList',
  },
  'jobs/artifacts': {
    operationId: 'listFineTuningJobArtifacts',
    summary: "List a fine-tuning job's artifacts",
    description:
      "Whetstone's extension: everything the job left in its folder (spec, checkpoints, adapter or model, metrics, result file, evaluation, manifest), in path order, each with a download URL. The cursor (`after`, `first_id`, `last_id`) is a path.",
    response: 'FineTuningJobArtifactList',
  },
  'jobs/artifact-content': {
    operationId: 'downloadFineTuningJobArtifact',
    summary: 'Download one artifact of a fine-tuning job',
    description:
      "Whetstone's extension. In AWS the answer is a 302 to a presigned S3 GET; the local platform answers with the bytes.",
    response: { download: "The artifact's bytes" },
  },
  'teams/create': {
    operationId: 'createTeam',
    summary: 'Create a team',
    description: "Whetstone's extension.",
    response: 'Team',
  },
  'teams/list': {
    operationId: 'listTeams',
    summary: 'List teams',
    description: "Whetstone's extension. An owner sees every team; any other key its own.",
    response: 'TeamList',
  },
  'keys/create': {
    operationId: 'createApiKey',
    summary: 'Create an API key',
    description:
      "Whetstone's extension. An admin makes keys for its own team, an owner for any team (`team`). The secret is in this response only.",
    response: 'CreatedApiKey',
  },
  'keys/list': {
    operationId: 'listApiKeys',
    summary: "List a team's API keys",
    description: "Whetstone's extension. Secrets are never listed, only their last characters.",
    response: 'ApiKeyList',
  },
  'keys/revoke': {
    operationId: 'revokeApiKey',
    summary: 'Revoke an API key',
    description:
      "Whetstone's extension. The answer is the key with `revoked_at` set; API Gateway may still admit it until the authorizer's cached verdict expires.",
    response: 'RevokedApiKey',
  },
  'audit/list': {
    operationId: 'listAuditRecords',
    summary: 'List the audit trail',
    description: "Whetstone's extension: every mutating call, newest first.",
    response: 'AuditRecordList',
  },
  'webhooks/create': {
    operationId: 'createWebhookEndpoint',
    summary: 'Register a webhook endpoint',
    description:
      "Whetstone's extension. Events are signed per the Standard Webhooks specification with the secret returned here, once.",
    response: 'CreatedWebhookEndpoint',
  },
  'webhooks/list': {
    operationId: 'listWebhookEndpoints',
    summary: "List the team's webhook endpoints",
    description: "Whetstone's extension.",
    response: 'WebhookEndpointList',
  },
  'webhooks/delete': {
    operationId: 'deleteWebhookEndpoint',
    summary: 'Delete a webhook endpoint',
    description: "Whetstone's extension. Deliveries still pending to it end `failed`; the log keeps them.",
    response: 'DeletedWebhookEndpoint',
  },
  'webhooks/deliveries': {
    operationId: 'listWebhookDeliveries',
    summary: "List the team's webhook deliveries",
    description:
      "Whetstone's extension: each event's delivery to each endpoint, with its attempts, newest first.",
    response: 'WebhookDeliveryList',
  },
  'models/list': {
    operationId: 'listModels',
    summary: 'List models',
    description: "The deployment's base models and the team's fine-tuned models.",
    response: 'ModelList',
  },
  'models/get': { operationId: 'retrieveModel', summary: 'Retrieve a model', response: 'Model' },
  'models/delete': {
    operationId: 'deleteModel',
    summary: 'Delete a fine-tuned model',
    description: "Deletes the fine-tuned model's artifacts; base models cannot be deleted here.",
    response: 'DeletedModel',
  },
  'models/register': {
    operationId: 'registerModel',
    summary: 'Register a base model',
    description:
      "Whetstone's extension: a model already in the data bucket in Hugging Face layout, visible to every team.",
    response: 'Model',
  },
};

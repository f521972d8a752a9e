import { z } from 'zod';
import type { JobArtifact } from '../../lambdas/jobs/artifact-service';
import type { ModelList } from '../../lambdas/models/service';
import type { PresignedPart } from '../../lambdas/uploads/service';
import {
  apiKeySchema,
  auditRecordSchema,
  createdApiKeySchema,
  createdWebhookEndpointSchema,
  errorBodySchema,
  fileDeletedSchema,
  fileObjectSchema,
  fineTuningJobSchema,
  jobCheckpointSchema,
  jobEventSchema,
  listEnvelopeSchema,
  modelDeletedSchema,
  modelObjectSchema,
  teamSchema,
  unixSeconds,
  uploadObjectSchema,
  uploadPartObjectSchema,
  webhookDeliverySchema,
  webhookEndpointDeletedSchema,
  webhookEndpointSchema,
  webhookEventSchema,
} from '../core/schemas';

// Responses the handlers build without a schema of their own in lib/core; each is checked
// against the type the handler returns (see the assertions below), so the two cannot drift.

const jobArtifactSchema = z.object({
  object: z.literal('fine_tuning.job.artifact'),
  path: z.string().describe("Relative to the job's folder, e.g. `checkpoints/step-10/adapter_config.json`."),
  bytes: z.number().int().nonnegative(),
  created_at: unixSeconds.describe('When the object was last written.'),
  url: z
    .string()
    .describe("A presigned S3 GET in AWS; locally the gateway's download route, which needs the API key."),
  expires_at: unixSeconds.nullable().describe('When a presigned `url` stops working; null when it does not.'),
});

const presignedPartSchema = z.object({
  part_number: z.number().int().min(1),
  bytes: z.number().int().positive(),
  url: z.string().describe('PUT the byte range here; keep the `ETag` S3 answers for complete.'),
});

const presignedUploadSchema = uploadObjectSchema.extend({
  whetstone: z.object({
    part_bytes: z.number().int().positive(),
    parts: z.array(presignedPartSchema),
  }),
});

const modelListSchema = z.object({ object: z.literal('list'), data: z.array(modelObjectSchema) });

const revokedApiKeySchema = apiKeySchema.extend({ deleted: z.literal(true) });

const healthSchema = z.object({ status: z.literal('ok') });

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
function assertSame<_T extends true>(): void {}
assertSame<Same<z.infer<typeof jobArtifactSchema>, JobArtifact>>();
assertSame<Same<z.infer<typeof presignedPartSchema>, PresignedPart>>();
assertSame<Same<z.infer<typeof modelListSchema>['data'][number], ModelList['data'][number]>>();

/**
 * Every object a response carries, by the component name the document gives it. Lists are
 * OpenAI's cursor page around an item named here, so the item is described once.
 */
export const RESPONSE_SCHEMAS = {
  Error: errorBodySchema,
  FileObject: fileObjectSchema,
  FileList: listEnvelopeSchema(fileObjectSchema),
  DeletedFile: fileDeletedSchema,
  Upload: uploadObjectSchema,
  UploadPart: uploadPartObjectSchema,
  PresignedUpload: presignedUploadSchema,
  FineTuningJob: fineTuningJobSchema,
  FineTuningJobList: listEnvelopeSchema(fineTuningJobSchema),
  FineTuningJobEvent: jobEventSchema,
  FineTuningJobEventList: listEnvelopeSchema(jobEventSchema),
  FineTuningJobCheckpoint: jobCheckpointSchema,
  FineTuningJobCheckpointList: listEnvelopeSchema(jobCheckpointSchema),
  FineTuningJobArtifact: jobArtifactSchema,
  FineTuningJobArtifactList: listEnvelopeSchema(jobArtifactSchema),
  Model: modelObjectSchema,
  ModelList: modelListSchema,
  DeletedModel: modelDeletedSchema,
  Team: teamSchema,
  TeamList: listEnvelopeSchema(teamSchema),
  ApiKey: apiKeySchema,
  ApiKeyList: listEnvelopeSchema(apiKeySchema),
  CreatedApiKey: createdApiKeySchema,
  RevokedApiKey: revokedApiKeySchema,
  AuditRecord: auditRecordSchema,
  AuditRecordList: listEnvelopeSchema(auditRecordSchema),
  WebhookEndpoint: webhookEndpointSchema,
  WebhookEndpointList: listEnvelopeSchema(webhookEndpointSchema),
  CreatedWebhookEndpoint: createdWebhookEndpointSchema,
  DeletedWebhookEndpoint: webhookEndpointDeletedSchema,
  WebhookDelivery: webhookDeliverySchema,
  WebhookDeliveryList: listEnvelopeSchema(webhookDeliverySchema),
  WebhookEvent: webhookEventSchema,
  HealthStatus: healthSchema,
} satisfies Readonly<Record<string, z.ZodType>>;

export type ResponseName = keyof typeof RESPONSE_SCHEMAS;

/** What a reader of the components should know beyond the fields. */
export const RESPONSE_DESCRIPTIONS: Partial<Record<ResponseName, string>> = {
  Error: "OpenAI's error body, with the matching HTTP status; `param` names the offending field.",
  CreatedApiKey: 'The only response that carries the secret (`value`): it is shown once and never stored.',
  CreatedWebhookEndpoint: 'The only response that carries the signing `secret`.',
  PresignedUpload: "Whetstone's extension: the upload with a presigned S3 URL for each part.",
  WebhookEvent:
    'What each subscribed endpoint is POSTed, signed per the Standard Webhooks specification (webhook-id, webhook-timestamp, webhook-signature headers).',
  FineTuningJobArtifact: "One object the job left in its folder (Whetstone's extension).",
};

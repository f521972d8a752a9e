import { z } from 'zod';
import {
  completePresignedUploadRequestSchema,
  completeUploadRequestSchema,
  createApiKeyRequestSchema,
  createJobRequestSchema,
  createPresignedUploadRequestSchema,
  createTeamRequestSchema,
  createUploadRequestSchema,
  createWebhookEndpointRequestSchema,
  listAuditQuerySchema,
  listFilesQuerySchema,
  listWebhookDeliveriesQuerySchema,
  MAX_FILE_BYTES,
  pageQuerySchema,
  registerModelRequestSchema,
  teamIdSchema,
  UPLOAD_PURPOSES,
} from '../lib/core/schemas';
import { FILE_ROLES, filePathSchema } from './files/path';
import type { RouteSpec } from './http/route';
import { uploadedFileSchema, uploadPartSchema } from './http/schemas';
import {
  artifactPathSchema,
  artifactQuerySchema,
  JOB_ROLES,
  jobPathSchema,
  listJobsQuerySchema,
} from './jobs/path';
import { MODEL_READ_ROLES, modelPathSchema } from './models/path';
import { UPLOAD_ROLES, uploadPathSchema } from './uploads/path';
import { WEBHOOK_MANAGER_ROLES, WEBHOOK_READER_ROLES, webhookPathSchema } from './webhooks/path';

/**
 * What each route in `ROUTES` admits, keyed by its module: roles, whether it mutates, and the
 * schemas its body, query string and path parameters must pass. Each handler serves its own entry
 * (`route(ROUTE_SPECS['files/create'], ...)`); the OpenAPI description is generated from the same
 * entries. This module loads no handler and reads no environment, so tools can import it.
 */
export const ROUTE_SPECS = {
  'files/create': {
    action: 'files.create',
    does: 'upload files',
    roles: ['member', 'admin', 'owner'],
    mutating: true,
    body: {
      encoding: 'multipart',
      schema: z.strictObject({ purpose: z.enum(UPLOAD_PURPOSES), file: uploadedFileSchema }),
      maxFileBytes: MAX_FILE_BYTES,
    },
  },
  'files/list': {
    action: 'files.list',
    does: 'list files',
    roles: FILE_ROLES,
    mutating: false,
    query: listFilesQuerySchema,
  },
  'files/get': {
    action: 'files.get',
    does: 'read files',
    roles: FILE_ROLES,
    mutating: false,
    path: filePathSchema,
  },
  'files/delete': {
    action: 'files.delete',
    does: 'delete files',
    roles: FILE_ROLES,
    mutating: true,
    path: filePathSchema,
  },
  'files/content': {
    action: 'files.content',
    does: 'read files',
    roles: FILE_ROLES,
    mutating: false,
    path: filePathSchema,
  },
  'uploads/create': {
    action: 'uploads.create',
    does: 'upload files',
    roles: UPLOAD_ROLES,
    mutating: true,
    body: { encoding: 'json', schema: createUploadRequestSchema },
  },
  'uploads/add-part': {
    action: 'uploads.add_part',
    does: 'upload files',
    roles: UPLOAD_ROLES,
    mutating: true,
    path: uploadPathSchema,
    body: { encoding: 'multipart', schema: z.strictObject({ data: uploadPartSchema }) },
  },
  'uploads/complete': {
    action: 'uploads.complete',
    does: 'upload files',
    roles: UPLOAD_ROLES,
    mutating: true,
    path: uploadPathSchema,
    body: { encoding: 'json', schema: completeUploadRequestSchema },
  },
  'uploads/cancel': {
    action: 'uploads.cancel',
    does: 'upload files',
    roles: UPLOAD_ROLES,
    mutating: true,
    path: uploadPathSchema,
  },
  'uploads/create-presigned': {
    action: 'uploads.create_presigned',
    does: 'upload files',
    roles: UPLOAD_ROLES,
    mutating: true,
    body: { encoding: 'json', schema: createPresignedUploadRequestSchema },
  },
  'uploads/complete-presigned': {
    action: 'uploads.complete_presigned',
    does: 'upload files',
    roles: UPLOAD_ROLES,
    mutating: true,
    path: uploadPathSchema,
    body: { encoding: 'json', schema: completePresignedUploadRequestSchema },
  },
  'jobs/create': {
    action: 'jobs.create',
    does: 'create fine-tuning jobs',
    roles: JOB_ROLES,
    mutating: true,
    body: { encoding: 'json', schema: createJobRequestSchema },
  },
  'jobs/list': {
    action: 'jobs.list',
    does: 'list fine-tuning jobs',
    roles: JOB_ROLES,
    mutating: false,
    query: listJobsQuerySchema,
  },
  'jobs/get': {
    action: 'jobs.get',
    does: 'read fine-tuning jobs',
    roles: JOB_ROLES,
    mutating: false,
    path: jobPathSchema,
  },
  'jobs/cancel': {
    action: 'jobs.cancel',
    does: 'cancel fine-tuning jobs',
    roles: JOB_ROLES,
    mutating: true,
    path: jobPathSchema,
  },
  'jobs/pause': {
    action: 'jobs.pause',
    does: 'pause fine-tuning jobs',
    roles: JOB_ROLES,
    mutating: true,
    path: jobPathSchema,
  },
  'jobs/resume': {
    action: 'jobs.resume',
    does: 'resume fine-tuning jobs',
    roles: JOB_ROLES,
    mutating: true,
    path: jobPathSchema,
  },
  'jobs/events': {
    action: 'jobs.events',
    does: 'read fine-tuning job events',
    roles: JOB_ROLES,
    mutating: false,
    path: jobPathSchema,
    query: pageQuerySchema,
  },
  'jobs/checkpoints': {
    action: 'jobs.checkpoints',
    does: 'read fine-tuning job checkpoints',
    roles: JOB_ROLES,
    mutating: false,
    path: jobPathSchema,
    query: pageQuerySchema,
  },
  'jobs/artifacts': {
    action: 'jobs.artifacts',
    does: 'list fine-tuning job artifacts',
    roles: JOB_ROLES,
    mutating: false,
    path: jobPathSchema,
    query: artifactQuerySchema,
  },
  'jobs/artifact-content': {
    action: 'jobs.artifact_content',
    does: 'download fine-tuning job artifacts',
    roles: JOB_ROLES,
    mutating: false,
    path: artifactPathSchema,
  },
  'teams/create': {
    action: 'teams.create',
    does: 'create teams',
    roles: ['owner'],
    mutating: true,
    body: { encoding: 'json', schema: createTeamRequestSchema },
  },
  'teams/list': {
    action: 'teams.list',
    does: 'list teams',
    roles: ['member', 'admin', 'finance', 'owner'],
    mutating: false,
    query: pageQuerySchema.extend({ after: teamIdSchema.optional() }),
  },
  'keys/create': {
    action: 'keys.create',
    does: 'create API keys',
    roles: ['admin', 'owner'],
    mutating: true,
    // The secret is shown once and never stored, so a repeat cannot be replayed.
    replay: 'refuse',
    body: { encoding: 'json', schema: createApiKeyRequestSchema },
  },
  'keys/list': {
    action: 'keys.list',
    does: 'list API keys',
    roles: ['admin', 'owner'],
    mutating: false,
    query: pageQuerySchema.extend({ team: teamIdSchema.optional() }),
  },
  'keys/revoke': {
    action: 'keys.revoke',
    does: 'revoke API keys',
    roles: ['admin', 'owner'],
    mutating: true,
    path: z.object({ key_id: z.string() }),
    query: z.strictObject({ team: teamIdSchema.optional() }),
  },
  'audit/list': {
    action: 'audit.list',
    does: 'read the audit trail',
    roles: ['owner'],
    mutating: false,
    query: listAuditQuerySchema,
  },
  'webhooks/create': {
    action: 'webhooks.create',
    does: 'register webhook endpoints',
    roles: WEBHOOK_MANAGER_ROLES,
    mutating: true,
    // The signing secret is shown once, so a repeat cannot be replayed.
    replay: 'refuse',
    body: { encoding: 'json', schema: createWebhookEndpointRequestSchema },
  },
  'webhooks/list': {
    action: 'webhooks.list',
    does: 'list webhook endpoints',
    roles: WEBHOOK_READER_ROLES,
    mutating: false,
    query: pageQuerySchema,
  },
  'webhooks/delete': {
    action: 'webhooks.delete',
    does: 'delete webhook endpoints',
    roles: WEBHOOK_MANAGER_ROLES,
    mutating: true,
    path: webhookPathSchema,
  },
  'webhooks/deliveries': {
    action: 'webhooks.deliveries.list',
    does: 'read the webhook delivery log',
    roles: WEBHOOK_READER_ROLES,
    mutating: false,
    query: listWebhookDeliveriesQuerySchema,
  },
  'models/list': {
    action: 'models.list',
    does: 'list models',
    roles: MODEL_READ_ROLES,
    mutating: false,
  },
  'models/get': {
    action: 'models.get',
    does: 'read models',
    roles: MODEL_READ_ROLES,
    mutating: false,
    path: modelPathSchema,
  },
  'models/delete': {
    action: 'models.delete',
    does: 'delete models',
    // Deleting destroys the trained artifacts, which no one can make again without retraining.
    roles: ['admin', 'owner'],
    mutating: true,
    path: modelPathSchema,
  },
  'models/register': {
    action: 'models.register',
    does: 'register base models',
    // Base models are the deployment's, visible to every team.
    roles: ['owner'],
    mutating: true,
    body: { encoding: 'json', schema: registerModelRequestSchema },
  },
} satisfies Readonly<Record<string, RouteSpec<z.ZodType, z.ZodType, z.ZodType>>>;

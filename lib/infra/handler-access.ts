import { AUTHORIZER_MODULE, EVENT_HANDLERS, ROUTES } from '../../lambdas/routes';

/** Top-level prefixes of the data bucket (lib/core/storage/keys.ts). */
export type BucketPrefix = 'files' | 'models' | 'artifacts';

/**
 * What one handler module does with the platform's resources, and so the only permissions its
 * function's role gets. Read from the services each handler reaches (middlewares included: a
 * mutating route writes its audit record and idempotency entry).
 */
export interface HandlerAccess {
  /** `read`: GetItem and Query. `write`: also PutItem, UpdateItem, DeleteItem, ConditionCheckItem (transactions). */
  readonly table: 'read' | 'write';
  /** GetObject (HeadObject, presigned GETs). */
  readonly readObjects?: readonly BucketPrefix[];
  /** PutObject (multipart uploads and presigned part URLs too). */
  readonly writeObjects?: readonly BucketPrefix[];
  readonly deleteObjects?: readonly BucketPrefix[];
  /** ListBucket, conditioned on `s3:prefix`. */
  readonly listObjects?: readonly BucketPrefix[];
  /** AbortMultipartUpload. */
  readonly abortUploads?: readonly BucketPrefix[];
  /**
   * Submits and terminates Batch jobs. Every job transition may launch the next waiting job
   * of the team when a slot frees (lambdas/jobs/settle.ts), so cancel and pause submit too.
   */
  readonly launchesJobs?: boolean;
  /** Sends job notifications: webhook deliveries to the queue, events to the bus. */
  readonly notifies?: boolean;
  /** Consumes the webhook delivery queue and re-enqueues retries on it. */
  readonly deliversWebhooks?: boolean;
}

/** A job's status changes: each may launch or stop compute and notifies; none touches objects. */
const JOB_TRANSITIONS: HandlerAccess = { table: 'write', launchesJobs: true, notifies: true };
const UPLOAD_PARTS: HandlerAccess = {
  table: 'write',
  readObjects: ['files'],
  writeObjects: ['files'],
  deleteObjects: ['files'],
  abortUploads: ['files'],
};

/** Keyed by handler module (lambdas/routes.ts); a test holds the keys equal to every module there. */
export const HANDLER_ACCESS: Readonly<Record<string, HandlerAccess>> = {
  [AUTHORIZER_MODULE]: { table: 'read' },
  'files/create': { table: 'write', writeObjects: ['files'], deleteObjects: ['files'] },
  'files/list': { table: 'read' },
  'files/get': { table: 'read' },
  'files/delete': { table: 'write', deleteObjects: ['files'] },
  'files/content': { table: 'read', readObjects: ['files'] },
  'uploads/create': UPLOAD_PARTS,
  'uploads/add-part': UPLOAD_PARTS,
  'uploads/complete': UPLOAD_PARTS,
  'uploads/cancel': UPLOAD_PARTS,
  'uploads/create-presigned': UPLOAD_PARTS,
  'uploads/complete-presigned': UPLOAD_PARTS,
  // Writes the job's spec.json, and removes it again when the job cannot be stored.
  'jobs/create': { ...JOB_TRANSITIONS, writeObjects: ['artifacts'], deleteObjects: ['artifacts'] },
  'jobs/cancel': JOB_TRANSITIONS,
  'jobs/pause': JOB_TRANSITIONS,
  'jobs/resume': JOB_TRANSITIONS,
  'jobs/list': { table: 'read' },
  'jobs/get': { table: 'read' },
  'jobs/events': { table: 'read' },
  'jobs/checkpoints': { table: 'read' },
  'jobs/artifacts': { table: 'read', readObjects: ['artifacts'], listObjects: ['artifacts'] },
  'jobs/artifact-content': { table: 'read', readObjects: ['artifacts'] },
  'teams/create': { table: 'write' },
  'teams/list': { table: 'read' },
  'keys/create': { table: 'write' },
  'keys/list': { table: 'read' },
  'keys/revoke': { table: 'write' },
  'audit/list': { table: 'read' },
  'webhooks/create': { table: 'write' },
  'webhooks/list': { table: 'read' },
  'webhooks/delete': { table: 'write' },
  'webhooks/deliveries': { table: 'read' },
  'models/list': { table: 'read' },
  'models/get': { table: 'read' },
  'models/delete': { table: 'write', listObjects: ['artifacts'], deleteObjects: ['artifacts'] },
  'models/register': { table: 'write', readObjects: ['models'] },
  'events/batch-state-change': JOB_TRANSITIONS,
  'webhooks/deliver': { table: 'write', deliversWebhooks: true },
};

/** Every handler module the deployment makes a function for. */
export function handlerModules(): string[] {
  return [AUTHORIZER_MODULE, ...new Set(ROUTES.map((route) => route.module)), ...Object.keys(EVENT_HANDLERS)];
}

/** The construct id of a module's function: `files/create` -> `FilesCreate`. */
export function handlerConstructId(module: string): string {
  return module
    .split(/[/-]/)
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
}

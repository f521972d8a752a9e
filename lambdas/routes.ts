/**
 * Every route and the module whose `handler` serves it. The local gateway serves this table and
 * the API stack makes one function per entry, so the two cannot drift apart.
 */
export interface RouteDefinition {
  readonly method: 'GET' | 'POST' | 'DELETE';
  /**
   * API Gateway resource path; `{name}` segments become path parameters, and a last `{name+}`
   * (greedy) takes the rest of the path, slashes included.
   */
  readonly path: string;
  /** Module under lambdas/, without extension. */
  readonly module: string;
}

export const ROUTES: readonly RouteDefinition[] = [
  { method: 'POST', path: '/v1/files', module: 'files/create' },
  { method: 'GET', path: '/v1/files', module: 'files/list' },
  { method: 'GET', path: '/v1/files/{file_id}', module: 'files/get' },
  { method: 'DELETE', path: '/v1/files/{file_id}', module: 'files/delete' },
  { method: 'GET', path: '/v1/files/{file_id}/content', module: 'files/content' },
  { method: 'POST', path: '/v1/uploads', module: 'uploads/create' },
  { method: 'POST', path: '/v1/uploads/{upload_id}/parts', module: 'uploads/add-part' },
  { method: 'POST', path: '/v1/uploads/{upload_id}/complete', module: 'uploads/complete' },
  { method: 'POST', path: '/v1/uploads/{upload_id}/cancel', module: 'uploads/cancel' },
  { method: 'POST', path: '/v1/whetstone/uploads', module: 'uploads/create-presigned' },
  {
    method: 'POST',
    path: '/v1/whetstone/uploads/{upload_id}/complete',
    module: 'uploads/complete-presigned',
  },
  { method: 'POST', path: '/v1/fine_tuning/jobs', module: 'jobs/create' },
  { method: 'GET', path: '/v1/fine_tuning/jobs', module: 'jobs/list' },
  { method: 'GET', path: '/v1/fine_tuning/jobs/{fine_tuning_job_id}', module: 'jobs/get' },
  { method: 'POST', path: '/v1/fine_tuning/jobs/{fine_tuning_job_id}/cancel', module: 'jobs/cancel' },
  { method: 'POST', path: '/v1/fine_tuning/jobs/{fine_tuning_job_id}/pause', module: 'jobs/pause' },
  { method: 'POST', path: '/v1/fine_tuning/jobs/{fine_tuning_job_id}/resume', module: 'jobs/resume' },
  { method: 'GET', path: '/v1/fine_tuning/jobs/{fine_tuning_job_id}/events', module: 'jobs/events' },
  {
    method: 'GET',
    path: '/v1/fine_tuning/jobs/{fine_tuning_job_id}/checkpoints',
    module: 'jobs/checkpoints',
  },
  {
    method: 'GET',
    path: '/v1/whetstone/jobs/{fine_tuning_job_id}/artifacts',
    module: 'jobs/artifacts',
  },
  {
    method: 'GET',
    path: '/v1/whetstone/jobs/{fine_tuning_job_id}/artifacts/{path+}',
    module: 'jobs/artifact-content',
  },
  { method: 'POST', path: '/v1/whetstone/teams', module: 'teams/create' },
  { method: 'GET', path: '/v1/whetstone/teams', module: 'teams/list' },
  { method: 'POST', path: '/v1/whetstone/keys', module: 'keys/create' },
  { method: 'GET', path: '/v1/whetstone/keys', module: 'keys/list' },
  { method: 'DELETE', path: '/v1/whetstone/keys/{key_id}', module: 'keys/revoke' },
  { method: 'GET', path: '/v1/whetstone/audit', module: 'audit/list' },
  { method: 'POST', path: '/v1/whetstone/webhooks', module: 'webhooks/create' },
  { method: 'GET', path: '/v1/whetstone/webhooks', module: 'webhooks/list' },
  { method: 'DELETE', path: '/v1/whetstone/webhooks/{webhook_id}', module: 'webhooks/delete' },
  { method: 'GET', path: '/v1/whetstone/webhooks/deliveries', module: 'webhooks/deliveries' },
  { method: 'GET', path: '/v1/models', module: 'models/list' },
  { method: 'GET', path: '/v1/models/{model}', module: 'models/get' },
  { method: 'DELETE', path: '/v1/models/{model}', module: 'models/delete' },
  { method: 'POST', path: '/v1/whetstone/models', module: 'models/register' },
];

/** Handlers invoked by events, not routes: module under lambdas/ -> what invokes it. */
export const EVENT_HANDLERS = {
  'events/batch-state-change': 'EventBridge rule: "Batch Job State Change" from Whetstone\'s job queues',
  'webhooks/deliver': 'SQS: the webhook delivery queue (WHETSTONE_WEBHOOK_QUEUE_URL), partial batch failures',
} as const;

/** The REQUEST authorizer every route sits behind. */
export const AUTHORIZER_MODULE = 'authorizer/handler';

/**
 * Every route and the module whose `handler` serves it. The local gateway serves this table and
 * the API stack makes one function per entry, so the two cannot drift apart.
 */
export interface RouteDefinition {
  readonly method: 'GET' | 'POST' | 'DELETE';
  /** API Gateway resource path; `{name}` segments become path parameters. */
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
  { method: 'POST', path: '/v1/whetstone/teams', module: 'teams/create' },
  { method: 'GET', path: '/v1/whetstone/teams', module: 'teams/list' },
  { method: 'POST', path: '/v1/whetstone/keys', module: 'keys/create' },
  { method: 'GET', path: '/v1/whetstone/keys', module: 'keys/list' },
  { method: 'DELETE', path: '/v1/whetstone/keys/{key_id}', module: 'keys/revoke' },
  { method: 'GET', path: '/v1/whetstone/audit', module: 'audit/list' },
];

/** The REQUEST authorizer every route sits behind. */
export const AUTHORIZER_MODULE = 'authorizer/handler';

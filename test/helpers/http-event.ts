import type { HttpEvent } from '../../lambdas/http/types';

export interface ThingsEventOptions {
  /** @default 'GET' */
  readonly method?: string;
  /** Sent as given: names keep their case, as API Gateway passes them. @default {} */
  readonly headers?: Record<string, string>;
  /** @default null */
  readonly body?: string | null;
}

/** A proxy event for middleware tests: a call to `/v1/things` with an owner key of team `default`. */
export function thingsEvent({
  method = 'GET',
  headers = {},
  body = null,
}: ThingsEventOptions = {}): HttpEvent {
  return {
    httpMethod: method,
    path: '/v1/things',
    resource: '/v1/things',
    headers,
    multiValueHeaders: {},
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    pathParameters: null,
    stageVariables: null,
    body,
    isBase64Encoded: false,
    requestContext: {
      authorizer: { team: 'default', role: 'owner', keyId: 'key_1' },
    } as unknown as HttpEvent['requestContext'],
  };
}

import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type {
  APIGatewayEventRequestContextWithAuthorizer,
  APIGatewayProxyEvent,
  APIGatewayRequestAuthorizerEvent,
  Context,
} from 'aws-lambda';
import { localInvocationContext } from '../../lambdas/runtime/invocation';

/**
 * API Gateway REST API (v1) events as the local gateway builds them: the same fields the real
 * service fills, so handlers cannot tell the difference.
 */
export const LOCAL_STAGE = 'local';
const ACCOUNT_ID = '000000000000';
const API_ID = 'whetstone';

export interface IncomingCall {
  readonly method: string;
  readonly path: string;
  readonly resource: string;
  readonly headers: IncomingHttpHeaders;
  readonly query: URLSearchParams;
  readonly pathParameters: Record<string, string>;
  readonly sourceIp: string;
  readonly requestId: string;
}

/** Media types API Gateway would pass as text; everything else arrives base64-encoded. */
const TEXT_MEDIA_TYPE = /^(application\/json|text\/[a-z.+-]+|application\/x-www-form-urlencoded)\s*(;|$)/i;

function singleHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const single: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) single[name] = Array.isArray(value) ? (value.at(-1) ?? '') : value;
  }
  return single;
}

function multiHeaders(headers: IncomingHttpHeaders): Record<string, string[]> {
  const multi: Record<string, string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) multi[name] = Array.isArray(value) ? value : [value];
  }
  return multi;
}

function queryMaps(query: URLSearchParams) {
  const single: Record<string, string> = {};
  const multi: Record<string, string[]> = {};
  for (const [name, value] of query) {
    single[name] = value;
    multi[name] = [...(multi[name] ?? []), value];
  }
  const empty = Object.keys(single).length === 0;
  return { single: empty ? null : single, multi: empty ? null : multi };
}

export function methodArn(call: Pick<IncomingCall, 'method' | 'resource'>): string {
  return `arn:aws:execute-api:local:${ACCOUNT_ID}:${API_ID}/${LOCAL_STAGE}/${call.method}${call.resource}`;
}

export function authorizerEvent(call: IncomingCall): APIGatewayRequestAuthorizerEvent {
  const query = queryMaps(call.query);
  return {
    type: 'REQUEST',
    methodArn: methodArn(call),
    resource: call.resource,
    path: call.path,
    httpMethod: call.method,
    headers: singleHeaders(call.headers),
    multiValueHeaders: multiHeaders(call.headers),
    pathParameters: call.pathParameters,
    queryStringParameters: query.single,
    multiValueQueryStringParameters: query.multi,
    stageVariables: null,
    requestContext: requestContext(
      call,
      null,
    ) as unknown as APIGatewayRequestAuthorizerEvent['requestContext'],
  };
}

export function proxyEvent(
  call: IncomingCall,
  body: Buffer,
  authorizer: Record<string, string | number | boolean> & { principalId: string },
): APIGatewayProxyEvent {
  const contentType = call.headers['content-type'] ?? '';
  const asText = body.length === 0 || TEXT_MEDIA_TYPE.test(contentType);
  const query = queryMaps(call.query);
  return {
    resource: call.resource,
    path: call.path,
    httpMethod: call.method,
    headers: singleHeaders(call.headers),
    multiValueHeaders: multiHeaders(call.headers),
    queryStringParameters: query.single,
    multiValueQueryStringParameters: query.multi,
    pathParameters: Object.keys(call.pathParameters).length > 0 ? call.pathParameters : null,
    stageVariables: null,
    requestContext: requestContext(call, authorizer),
    body: body.length === 0 ? null : asText ? body.toString('utf8') : body.toString('base64'),
    isBase64Encoded: !asText,
  };
}

function requestContext(
  call: IncomingCall,
  authorizer: Record<string, string | number | boolean> | null,
): APIGatewayEventRequestContextWithAuthorizer<Record<string, string | number | boolean> | null> {
  const now = Date.now();
  return {
    accountId: ACCOUNT_ID,
    apiId: API_ID,
    authorizer,
    protocol: 'HTTP/1.1',
    httpMethod: call.method,
    identity: {
      accessKey: null,
      accountId: null,
      apiKey: null,
      apiKeyId: null,
      caller: null,
      clientCert: null,
      cognitoAuthenticationProvider: null,
      cognitoAuthenticationType: null,
      cognitoIdentityId: null,
      cognitoIdentityPoolId: null,
      principalOrgId: null,
      sourceIp: call.sourceIp,
      user: null,
      userAgent: singleHeaders(call.headers)['user-agent'] ?? null,
      userArn: null,
    },
    path: `/${LOCAL_STAGE}${call.path}`,
    stage: LOCAL_STAGE,
    requestId: call.requestId,
    requestTimeEpoch: now,
    resourceId: call.resource,
    resourcePath: call.resource,
  };
}

export function lambdaContext(functionName: string, requestId: string = randomUUID()): Context {
  // API Gateway gives up on an integration after 29 s.
  return localInvocationContext(functionName, 29_000, requestId);
}

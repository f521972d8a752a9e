import { randomUUID } from 'node:crypto';
import type { IncomingMessage, RequestListener, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type {
  APIGatewayAuthorizerResult,
  APIGatewayProxyEvent,
  APIGatewayProxyResult,
  APIGatewayRequestAuthorizerEvent,
  Context,
} from 'aws-lambda';
import { renderError } from '../../lambdas/http/responses';
import type { RouteDefinition } from '../../lambdas/routes';
import {
  gatewayErrors,
  InternalError,
  InvalidRequestError,
  MethodNotAllowedError,
  RateLimitError,
  type WhetstoneError,
} from '../core/errors';
import { authorizerEvent, type IncomingCall, lambdaContext, proxyEvent } from './api-gateway-events';
import type { TokenBucketLimiter } from './rate-limiter';

export type ProxyHandler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;
export type AuthorizerHandler = (
  event: APIGatewayRequestAuthorizerEvent,
) => Promise<APIGatewayAuthorizerResult>;

export interface GatewayOptions {
  readonly routes: readonly (RouteDefinition & { readonly handler: ProxyHandler })[];
  readonly authorizer: AuthorizerHandler;
  readonly limiter: TokenBucketLimiter;
  /** API Gateway's payload limit is 10 MB; the local gateway holds to the same. */
  readonly maxBodyBytes: number;
  readonly log: (line: string) => void;
}

interface CompiledRoute {
  readonly definition: RouteDefinition & { readonly handler: ProxyHandler };
  readonly pattern: RegExp;
  readonly names: readonly string[];
}

function compile(route: RouteDefinition & { readonly handler: ProxyHandler }): CompiledRoute {
  const names: string[] = [];
  const source = route.path.replace(/\{(\w+)(\+?)\}/g, (_match, name: string, greedy: string) => {
    names.push(name);
    // `{name+}` is API Gateway's greedy parameter: the rest of the path, slashes included.
    return greedy ? '(.+)' : '([^/]+)';
  });
  return { definition: route, pattern: new RegExp(`^${source}$`), names };
}

/**
 * The API Gateway stand-in: matches a route, runs the REQUEST authorizer, throttles per key,
 * hands the handler a REST API proxy event and writes back its proxy result. It is a listener for
 * a server already bound, so a taken port is known before anything starts.
 */
export function gatewayListener(options: GatewayOptions): RequestListener {
  const routes = options.routes.map(compile);

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const requestId = randomUUID();
    const url = new URL(request.url ?? '/', 'http://localhost');
    const method = request.method ?? 'GET';
    response.setHeader('x-request-id', requestId);

    if (url.pathname === '/healthz' && method === 'GET') {
      return send(response, 200, { status: 'ok' });
    }
    const matches = routes
      .map((route) => ({ route, match: route.pattern.exec(url.pathname) }))
      .filter((candidate) => candidate.match !== null);
    if (matches.length === 0) {
      return sendError(response, gatewayErrors.unknownUrl(method, url.pathname));
    }
    const chosen = matches.find((candidate) => candidate.route.definition.method === method);
    if (!chosen?.match) {
      const allowed = matches.map((candidate) => candidate.route.definition.method).join(', ');
      return sendError(
        response,
        new MethodNotAllowedError(`${method} is not allowed on ${url.pathname}; use ${allowed}.`, {
          headers: { Allow: allowed },
        }),
      );
    }
    const { definition, names } = chosen.route;
    const pathParameters: Record<string, string> = {};
    for (const [index, name] of names.entries()) {
      const raw = chosen.match[index + 1] ?? '';
      try {
        pathParameters[name] = decodeURIComponent(raw);
      } catch {
        return sendError(
          response,
          new InvalidRequestError(`The path parameter ${name} is not valid percent-encoding.`, {
            code: 'invalid_path',
            param: name,
          }),
        );
      }
    }
    const call: IncomingCall = {
      method,
      path: url.pathname,
      resource: definition.path,
      headers: request.headers,
      query: url.searchParams,
      pathParameters,
      sourceIp: request.socket.remoteAddress ?? '127.0.0.1',
      requestId,
    };

    let verdict: APIGatewayAuthorizerResult;
    try {
      verdict = await options.authorizer(authorizerEvent(call));
    } catch (error) {
      if (error instanceof Error && error.message === 'Unauthorized') {
        return sendError(response, gatewayErrors.missingApiKey());
      }
      throw error;
    }
    const allowed = verdict.policyDocument.Statement.some((statement) => statement.Effect === 'Allow');
    if (!allowed) {
      return sendError(response, gatewayErrors.routeNotAllowed());
    }

    const throttle = options.limiter.take(verdict.principalId);
    if (!throttle.allowed) {
      return sendError(
        response,
        new RateLimitError(
          `Too many requests for this API key; retry after ${throttle.retryAfterSeconds} s.`,
          throttle.retryAfterSeconds,
        ),
      );
    }

    const body = await readBody(request, options.maxBodyBytes);
    if (body === 'too_large') {
      // The rest of the body is not read; the connection cannot carry another request.
      response.setHeader('Connection', 'close');
      return sendError(response, gatewayErrors.bodyTooLarge(options.maxBodyBytes));
    }
    const authorizerContext = { ...(verdict.context ?? {}), principalId: verdict.principalId };
    const event = proxyEvent(call, body, authorizerContext);
    const result = await definition.handler(
      event,
      lambdaContext(definition.module.replace('/', '-'), requestId),
    );
    writeResult(response, result);
  };

  return (request, response) => {
    const started = Date.now();
    handle(request, response)
      .catch((error: unknown) => {
        options.log(
          `gateway error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
        );
        if (!response.headersSent) {
          sendError(
            response,
            new InternalError('The gateway failed to handle the request.', { code: 'internal_error' }),
          );
        } else response.destroy();
      })
      .finally(() =>
        options.log(`${request.method} ${request.url} ${response.statusCode} ${Date.now() - started}ms`),
      );
  };
}

async function readBody(request: IncomingMessage, limit: number): Promise<Buffer | 'too_large'> {
  const declared = Number(request.headers['content-length'] ?? 0);
  if (declared > limit) {
    request.resume();
    return 'too_large';
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > limit) {
      request.resume();
      return 'too_large';
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function writeResult(response: ServerResponse, result: APIGatewayProxyResult): void {
  for (const [name, value] of Object.entries(result.headers ?? {})) response.setHeader(name, String(value));
  for (const [name, values] of Object.entries(result.multiValueHeaders ?? {})) {
    response.setHeader(name, values.map(String));
  }
  const body = Buffer.from(result.body ?? '', result.isBase64Encoded ? 'base64' : 'utf8');
  response.statusCode = result.statusCode;
  response.setHeader('Content-Length', String(body.length));
  response.end(body);
}

function send(response: ServerResponse, statusCode: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(statusCode, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(text),
  });
  response.end(text);
}

/** The gateway's own refusals, rendered exactly as a handler renders its errors. */
function sendError(response: ServerResponse, error: WhetstoneError): void {
  writeResult(response, renderError(error));
}

export function listeningUrl(server: Server): string {
  const address = server.address() as AddressInfo;
  return `http://127.0.0.1:${address.port}`;
}

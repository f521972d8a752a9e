import type middy from '@middy/core';
import { z } from 'zod';
import { isOrigin } from '../../lib/core/schemas';
import { withHeaders } from '../http/responses';
import type { HttpEvent, HttpResponse, RouteContext } from '../http/types';
import { parseOptions } from './options';
import { headerValue } from './request-parser';

/**
 * Response headers a browser script may read besides the CORS-safelisted ones: the request ids
 * (the local gateway's and API Gateway's), and what the OpenAI SDKs read to decide a retry.
 */
export const EXPOSED_HEADERS = [
  'x-request-id',
  'x-amzn-RequestId',
  'Retry-After',
  'x-should-retry',
  'Idempotent-Replayed',
] as const;

const optionsSchema = z.strictObject({
  /** Origins allowed to read responses, as `https://console.example.com`; empty: no CORS headers at all. */
  origins: z.array(z.string().refine(isOrigin, 'must be an origin such as https://console.example.com')),
  /** Headers named in `Access-Control-Expose-Headers`. */
  exposeHeaders: z.array(z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, 'must be a header name')),
});
export type CorsOptions = z.input<typeof optionsSchema>;

const defaults: CorsOptions = {
  origins: [],
  exposeHeaders: [...EXPOSED_HEADERS],
};

/**
 * CORS headers on every response, errors included, for the browser origins the deployment
 * allows: `Access-Control-Allow-Origin` names the request's own `Origin` when it is allowed, and
 * `Vary: Origin` tells caches the answer depends on it. API Gateway answers the preflight
 * (OPTIONS); these cover the actual request. Credentials are bearer keys, never cookies, so
 * `Access-Control-Allow-Credentials` stays off.
 *
 * It must be the first middleware: its `onError` then runs after the error handler has rendered
 * the error, and its `after` after every other. The headers are decided in `before` and kept on
 * the context as `responseHeaders`, so a middleware that answers early (an idempotent replay,
 * which skips every `after`) carries them too.
 */
export function cors(
  options: Partial<CorsOptions> = {},
): middy.MiddlewareObj<HttpEvent, HttpResponse, Error, RouteContext> {
  const { origins, exposeHeaders } = parseOptions('cors', optionsSchema, { ...defaults, ...options });
  const allowed = new Set(origins);
  const exposed = exposeHeaders.join(', ');

  const headersFor = (event: HttpEvent): Record<string, string> => {
    if (allowed.size === 0) return {};
    const origin = headerValue(event, 'Origin');
    if (origin === undefined || !allowed.has(origin)) return { Vary: 'Origin' };
    return {
      'Access-Control-Allow-Origin': origin,
      ...(exposed ? { 'Access-Control-Expose-Headers': exposed } : {}),
      Vary: 'Origin',
    };
  };

  const apply = (request: middy.Request<HttpEvent, HttpResponse, Error, RouteContext>) => {
    if (!request.response) return;
    const headers = request.context.responseHeaders ?? headersFor(request.event);
    if (Object.keys(headers).length === 0) return;
    request.response = { ...request.response, headers: withHeaders(request.response.headers, headers) };
  };

  const corsBefore: middy.MiddlewareFn<HttpEvent, HttpResponse, Error, RouteContext> = async (request) => {
    request.context.responseHeaders = headersFor(request.event);
  };
  const corsAfter: middy.MiddlewareFn<HttpEvent, HttpResponse, Error, RouteContext> = async (request) => {
    apply(request);
  };
  const corsOnError: middy.MiddlewareFn<HttpEvent, HttpResponse, Error, RouteContext> = async (request) => {
    apply(request);
  };

  return { before: corsBefore, after: corsAfter, onError: corsOnError };
}

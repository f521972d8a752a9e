import type middy from '@middy/core';
import { z } from 'zod';
import { withHeaders } from '../http/responses';
import type { HttpEvent, HttpResponse, RouteContext } from '../http/types';
import { parseOptions } from './options';

const optionsSchema = z.strictObject({
  /** The response header that names the request. */
  header: z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, 'must be a header name'),
});
export type RequestIdOptions = z.input<typeof optionsSchema>;

const defaults: RequestIdOptions = { header: 'x-request-id' };

/**
 * Names the request on every answer with the id its logs and internal-error messages quote: the
 * Lambda request id (the local gateway hands its own id as that). In AWS, API Gateway adds only
 * its own `x-amzn-RequestId`, so without this the OpenAI SDK's `_request_id` would be empty there.
 *
 * It goes right after the CORS middleware: its `before` runs before anything can fail, and it also
 * records the header in `responseHeaders`, which an idempotent replay (skipping every `after`) carries.
 */
export function requestId(
  options: Partial<RequestIdOptions> = {},
): middy.MiddlewareObj<HttpEvent, HttpResponse, Error, RouteContext> {
  const { header } = parseOptions('requestId', optionsSchema, { ...defaults, ...options });

  const apply = (request: middy.Request<HttpEvent, HttpResponse, Error, RouteContext>) => {
    if (!request.response) return;
    request.response = {
      ...request.response,
      headers: withHeaders(request.response.headers, { [header]: request.context.awsRequestId }),
    };
  };

  const requestIdBefore: middy.MiddlewareFn<HttpEvent, HttpResponse, Error, RouteContext> = async (
    request,
  ) => {
    request.context.responseHeaders = {
      ...request.context.responseHeaders,
      [header]: request.context.awsRequestId,
    };
  };
  const requestIdAfter: middy.MiddlewareFn<HttpEvent, HttpResponse, Error, RouteContext> = async (request) =>
    apply(request);
  const requestIdOnError: middy.MiddlewareFn<HttpEvent, HttpResponse, Error, RouteContext> = async (
    request,
  ) => apply(request);

  return { before: requestIdBefore, after: requestIdAfter, onError: requestIdOnError };
}

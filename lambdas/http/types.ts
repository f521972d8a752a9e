import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import type { Principal } from '../../lib/core/schemas';

export type HttpEvent = APIGatewayProxyEvent;
export type HttpResponse = APIGatewayProxyResult;

/** What the middlewares establish before a route's own code runs. */
export interface RouteContext extends Context {
  principal: Principal;
  input: { body: unknown; query: unknown; path: unknown };
  /**
   * Headers every answer to this request carries, one given early (an idempotent replay, which
   * skips the `after` middlewares) included. The CORS and request-id middlewares, first in the
   * chain, set them.
   */
  responseHeaders?: Record<string, string>;
}

export interface UploadedFile {
  readonly filename: string;
  readonly contentType: string;
  readonly content: Buffer;
}

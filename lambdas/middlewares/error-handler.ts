import type middy from '@middy/core';
import { z } from 'zod';
import { InternalError, WhetstoneError } from '../../lib/core/errors';
import { renderError } from '../http/responses';
import type { HttpEvent, HttpResponse } from '../http/types';
import { parseOptions } from './options';

const optionsSchema = z.strictObject({
  /** Where unexpected errors are reported; they never reach the caller. */
  logger: z.custom<(message: string, details: Record<string, unknown>) => void>(
    (value) => typeof value === 'function',
  ),
});
export type ErrorHandlerOptions = z.input<typeof optionsSchema>;

const defaults: ErrorHandlerOptions = {
  logger: (message, details) => console.error(JSON.stringify({ level: 'error', message, ...details })),
};

/**
 * The one place errors become responses: every `WhetstoneError` renders as OpenAI's error body
 * with its status and headers; anything else is logged and answered with a bare 500 naming the
 * request id, so internals never leak.
 */
export function errorHandler(
  options: Partial<ErrorHandlerOptions> = {},
): middy.MiddlewareObj<HttpEvent, HttpResponse> {
  const { logger } = parseOptions('errorHandler', optionsSchema, { ...defaults, ...options });

  const errorHandlerOnError: middy.MiddlewareFn<HttpEvent, HttpResponse> = async (request) => {
    if (request.response !== undefined) return;
    const requestId = request.context.awsRequestId;
    const error =
      request.error instanceof WhetstoneError
        ? request.error
        : new InternalError(
            `The server failed to handle the request; quote request id ${requestId} when reporting it.`,
            {
              cause: request.error,
            },
          );
    if (error instanceof InternalError) {
      const cause = error.cause instanceof Error ? error.cause : request.error;
      logger('unhandled error', {
        requestId,
        path: request.event.path,
        error:
          cause instanceof Error
            ? { name: cause.name, message: cause.message, stack: cause.stack }
            : String(cause),
      });
    }
    request.response = renderError(error);
  };

  return { onError: errorHandlerOnError };
}

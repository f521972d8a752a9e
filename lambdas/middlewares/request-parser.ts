import type middy from '@middy/core';
import { z } from 'zod';
import { InvalidRequestError, UnsupportedMediaTypeError } from '../../lib/core/errors';
import { parseMultipart } from '../http/multipart';
import type { HttpEvent, HttpResponse, RouteContext } from '../http/types';
import { parseInput } from '../http/validation';
import { parseOptions } from './options';

const zodSchema = z.custom<z.ZodType>((value) => value instanceof z.ZodType);

const optionsSchema = z.strictObject({
  /** How the body is encoded: JSON, a multipart form, or none (anything sent is ignored). */
  body: z.enum(['json', 'multipart', 'none']),
  bodySchema: zodSchema,
  querySchema: zodSchema,
  pathSchema: zodSchema,
  /** Largest file a multipart form may carry. */
  maxFileBytes: z.number().int().positive(),
});
export type RequestParserOptions = z.input<typeof optionsSchema>;

const defaults: RequestParserOptions = {
  body: 'none',
  bodySchema: z.unknown(),
  querySchema: z.strictObject({}),
  pathSchema: z.object({}),
  maxFileBytes: 10 * 1024 * 1024,
};

/**
 * Decodes and validates body, query string and path parameters into `context.input`, so a
 * route's code only ever sees values its schemas accepted.
 */
export function requestParser(
  options: Partial<RequestParserOptions> = {},
): middy.MiddlewareObj<HttpEvent, HttpResponse, Error, RouteContext> {
  const { body, bodySchema, querySchema, pathSchema, maxFileBytes } = parseOptions(
    'requestParser',
    optionsSchema,
    {
      ...defaults,
      ...options,
    },
  );

  const requestParserBefore: middy.MiddlewareFn<HttpEvent, HttpResponse, Error, RouteContext> = async (
    request,
  ) => {
    const { event } = request;
    const path = parseInput(pathSchema, event.pathParameters ?? {}, 'path');
    const query = parseInput(querySchema, event.queryStringParameters ?? {}, 'query');
    const raw = event.body
      ? Buffer.from(event.body, event.isBase64Encoded ? 'base64' : 'utf8')
      : Buffer.alloc(0);
    const contentType = headerValue(event, 'content-type') ?? '';
    let decoded: unknown;
    if (body === 'json') {
      decoded = parseJsonBody(raw, contentType);
    } else if (body === 'multipart') {
      if (!/^multipart\/form-data\s*;/i.test(contentType)) {
        throw new UnsupportedMediaTypeError(
          `Content-Type must be multipart/form-data, not '${contentType || 'none'}'.`,
          { param: 'Content-Type' },
        );
      }
      decoded = await parseMultipart(raw, contentType, {
        maxFileBytes,
        maxFields: 16,
        maxFieldBytes: 64 * 1024,
      });
    }
    request.context.input = {
      path,
      query,
      body: body === 'none' ? undefined : parseInput(bodySchema, decoded, 'body'),
    };
  };

  return { before: requestParserBefore };
}

function parseJsonBody(raw: Buffer, contentType: string): unknown {
  if (raw.length === 0) return {};
  if (!/^application\/json\s*(;|$)/i.test(contentType)) {
    throw new UnsupportedMediaTypeError(
      `Content-Type must be application/json, not '${contentType || 'none'}'.`,
      {
        param: 'Content-Type',
      },
    );
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(raw);
  } catch (error) {
    throw new InvalidRequestError('The request body is not valid UTF-8.', {
      code: 'invalid_json',
      cause: error,
    });
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new InvalidRequestError(
      `The request body is not valid JSON: ${error instanceof Error ? error.message : String(error)}`,
      { code: 'invalid_json', cause: error },
    );
  }
}

export function headerValue(event: HttpEvent, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(event.headers ?? {})) {
    if (key.toLowerCase() === wanted && value !== undefined) return value;
  }
  return undefined;
}

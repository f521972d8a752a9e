import type { WhetstoneError } from '../../lib/core/errors';
import type { ErrorBody } from '../../lib/core/schemas';
import type { HttpResponse } from './types';

export function json(statusCode: number, body: unknown, headers: Record<string, string> = {}): HttpResponse {
  return {
    statusCode,
    headers: { 'Content-Type': 'application/json', ...headers },
    body: JSON.stringify(body),
  };
}

export function binary(
  body: Buffer,
  contentType: string,
  headers: Record<string, string> = {},
): HttpResponse {
  return {
    statusCode: 200,
    headers: { 'Content-Type': contentType, 'Content-Length': String(body.length), ...headers },
    body: body.toString('base64'),
    isBase64Encoded: true,
  };
}

export function redirect(location: string): HttpResponse {
  return { statusCode: 302, headers: { Location: location }, body: '' };
}

export function errorBody(
  message: string,
  type: string,
  param: string | null,
  code: string | null,
): ErrorBody {
  return { error: { message, type, param, code } };
}

/**
 * The one rendering of an error, shared by the handlers' error middleware and the local
 * gateway: its status, its headers (e.g. `Retry-After`) and OpenAI's error body.
 */
export function renderError(error: WhetstoneError): HttpResponse {
  return json(error.statusCode, errorBody(error.message, error.type, error.param, error.code), {
    ...(retryWillNotHelp(error) ? { 'x-should-retry': 'false' } : {}),
    ...error.headers,
  });
}

/**
 * OpenAI's SDKs retry every 409 unless told not to. Only a request still in progress under the
 * same Idempotency-Key is worth retrying; any other conflict answers the same every time.
 */
function retryWillNotHelp(error: WhetstoneError): boolean {
  return error.statusCode === 409 && error.code !== 'idempotency_key_in_use';
}

/**
 * `extra` merged into `headers` whatever their case: a `Vary` already there gains the new
 * fields, any other header is replaced.
 */
export function withHeaders(
  headers: HttpResponse['headers'],
  extra: Readonly<Record<string, string>>,
): NonNullable<HttpResponse['headers']> {
  const merged: NonNullable<HttpResponse['headers']> = { ...headers };
  for (const [name, value] of Object.entries(extra)) {
    const existing = Object.keys(merged).find((key) => key.toLowerCase() === name.toLowerCase());
    if (existing === undefined) {
      merged[name] = value;
      continue;
    }
    if (name.toLowerCase() === 'vary') {
      const fields = String(merged[existing])
        .split(',')
        .map((field) => field.trim())
        .filter((field) => field !== '');
      const added = value.split(',').map((field) => field.trim());
      const lower = new Set(fields.map((field) => field.toLowerCase()));
      merged[existing] = [...fields, ...added.filter((field) => !lower.has(field.toLowerCase()))].join(', ');
    } else {
      merged[existing] = value;
    }
  }
  return merged;
}

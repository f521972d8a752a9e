/**
 * Every error a caller can cause, as one hierarchy. The HTTP edge renders any `WhetstoneError`
 * as OpenAI's error body `{"error":{"message","type","param","code"}}` with `statusCode`; anything
 * else is a bug and becomes a 500 whose message reveals nothing.
 */
export interface WhetstoneErrorOptions {
  /** The request field at fault, as OpenAI's `error.param` (dotted path for nested fields). */
  readonly param?: string | null;
  /** A stable machine-readable code, as OpenAI's `error.code`. */
  readonly code?: string | null;
  readonly cause?: unknown;
  /** Extra headers the response must carry (e.g. `Retry-After`). */
  readonly headers?: Readonly<Record<string, string>>;
}

export abstract class WhetstoneError extends Error {
  abstract readonly statusCode: number;
  abstract readonly type: string;
  readonly param: string | null;
  readonly code: string | null;
  readonly headers: Readonly<Record<string, string>>;

  constructor(message: string, options: WhetstoneErrorOptions = {}) {
    super(message, { cause: options.cause });
    this.name = new.target.name;
    this.param = options.param ?? null;
    this.code = options.code ?? null;
    this.headers = options.headers ?? {};
  }
}

export class InvalidRequestError extends WhetstoneError {
  readonly statusCode = 400;
  readonly type = 'invalid_request_error';
}

export class AuthenticationError extends WhetstoneError {
  readonly statusCode = 401;
  readonly type = 'invalid_request_error';
  constructor(message: string, options: WhetstoneErrorOptions = {}) {
    super(message, { code: 'invalid_api_key', ...options });
  }
}

export class PermissionDeniedError extends WhetstoneError {
  readonly statusCode = 403;
  readonly type = 'invalid_request_error';
  constructor(message: string, options: WhetstoneErrorOptions = {}) {
    super(message, { code: 'insufficient_permissions', ...options });
  }
}

export class NotFoundError extends WhetstoneError {
  readonly statusCode = 404;
  readonly type = 'invalid_request_error';
  constructor(message: string, options: WhetstoneErrorOptions = {}) {
    super(message, { code: 'not_found', ...options });
  }
}

export class MethodNotAllowedError extends WhetstoneError {
  readonly statusCode = 405;
  readonly type = 'invalid_request_error';
  constructor(message: string, options: WhetstoneErrorOptions = {}) {
    super(message, { code: 'method_not_allowed', ...options });
  }
}

export class ConflictError extends WhetstoneError {
  readonly statusCode = 409;
  readonly type = 'invalid_request_error';
  constructor(message: string, options: WhetstoneErrorOptions = {}) {
    super(message, { code: 'conflict', ...options });
  }
}

export class PayloadTooLargeError extends WhetstoneError {
  readonly statusCode = 413;
  readonly type = 'invalid_request_error';
  constructor(message: string, options: WhetstoneErrorOptions = {}) {
    super(message, { code: 'payload_too_large', ...options });
  }
}

export class UnsupportedMediaTypeError extends WhetstoneError {
  readonly statusCode = 415;
  readonly type = 'invalid_request_error';
  constructor(message: string, options: WhetstoneErrorOptions = {}) {
    super(message, { code: 'unsupported_media_type', ...options });
  }
}

export class RateLimitError extends WhetstoneError {
  readonly statusCode = 429;
  readonly type = 'rate_limit_error';
  constructor(message: string, retryAfterSeconds: number, options: WhetstoneErrorOptions = {}) {
    super(message, {
      code: 'rate_limit_exceeded',
      headers: { 'Retry-After': String(retryAfterSeconds) },
      ...options,
    });
  }
}

/** Not the caller's fault; rendered as a generic 500 with the request id, details go to the log. */
export class InternalError extends WhetstoneError {
  readonly statusCode = 500;
  readonly type = 'server_error';
}

import { ResponseType } from 'aws-cdk-lib/aws-apigateway';
import {
  API_GATEWAY_MAX_BODY_BYTES,
  gatewayErrors,
  InternalError,
  InvalidRequestError,
  RateLimitError,
  type WhetstoneError,
} from '../core/errors';

export interface GatewayError {
  readonly id: string;
  readonly type: ResponseType;
  /** Absent for the catch-alls: API Gateway's own status (502, 504, ...) is kept. */
  readonly statusCode?: number;
  readonly body: {
    readonly error: { message: string; type: string; param: string | null; code: string | null };
  };
}

/**
 * Answers API Gateway gives before a handler runs, in the same OpenAI error shape and words as
 * the handlers and the local gateway. `$context` variables are filled in by API Gateway's template.
 */
export const GATEWAY_ERRORS: readonly GatewayError[] = [
  gatewayError('Unauthorized', ResponseType.UNAUTHORIZED, gatewayErrors.missingApiKey()),
  gatewayError('AccessDenied', ResponseType.ACCESS_DENIED, gatewayErrors.routeNotAllowed()),
  // API Gateway's answer for a path or method no resource has.
  gatewayError(
    'UnknownUrl',
    ResponseType.MISSING_AUTHENTICATION_TOKEN,
    gatewayErrors.unknownUrl('$context.httpMethod', '$context.path'),
  ),
  gatewayError(
    'Throttled',
    ResponseType.THROTTLED,
    new RateLimitError('Too many requests; the API is throttled. Retry after a short wait.', 1),
  ),
  gatewayError(
    'TooLarge',
    ResponseType.REQUEST_TOO_LARGE,
    gatewayErrors.bodyTooLarge(API_GATEWAY_MAX_BODY_BYTES),
  ),
  gatewayError(
    'BadParameters',
    ResponseType.BAD_REQUEST_PARAMETERS,
    new InvalidRequestError('A required request parameter is missing: $context.error.validationErrorString'),
  ),
  gatewayError(
    'BadBody',
    ResponseType.BAD_REQUEST_BODY,
    new InvalidRequestError('The request body is invalid: $context.error.validationErrorString'),
  ),
  gatewayError(
    'Default4xx',
    ResponseType.DEFAULT_4XX,
    new InvalidRequestError('The request was refused: $context.error.message'),
    { keepStatus: true },
  ),
  gatewayError(
    'Default5xx',
    ResponseType.DEFAULT_5XX,
    new InternalError('The gateway failed to handle the request (request id $context.requestId).', {
      code: 'internal_error',
    }),
    { keepStatus: true },
  ),
];

function gatewayError(
  id: string,
  type: ResponseType,
  error: WhetstoneError,
  options: { readonly keepStatus?: boolean } = {},
): GatewayError {
  return {
    id,
    type,
    ...(options.keepStatus ? {} : { statusCode: error.statusCode }),
    body: { error: { message: error.message, type: error.type, param: error.param, code: error.code } },
  };
}

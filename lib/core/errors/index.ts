export {
  AuthenticationError,
  ConflictError,
  InternalError,
  InvalidRequestError,
  MethodNotAllowedError,
  NotFoundError,
  PayloadTooLargeError,
  PermissionDeniedError,
  RateLimitError,
  UnsupportedMediaTypeError,
  WhetstoneError,
  type WhetstoneErrorOptions,
} from './errors';
export { API_GATEWAY_MAX_BODY_BYTES, gatewayErrors } from './gateway';

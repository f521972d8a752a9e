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

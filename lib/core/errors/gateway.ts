import { AuthenticationError, NotFoundError, PayloadTooLargeError, PermissionDeniedError } from './errors';

/** API Gateway's limit on a REST API request body; the local gateway holds requests to it too. */
export const API_GATEWAY_MAX_BODY_BYTES = 10 * 1024 * 1024;

/**
 * The refusals a gateway gives before any handler runs, worded once for both: the local gateway
 * builds them per request, and the API stack renders them as API Gateway's gateway responses.
 */
export const gatewayErrors = {
  missingApiKey: () =>
    new AuthenticationError('Incorrect or missing API key. Send it as `Authorization: Bearer <key>`.'),
  routeNotAllowed: () =>
    new PermissionDeniedError('The API key may not call this route.', { code: 'access_denied' }),
  unknownUrl: (method: string, path: string) =>
    new NotFoundError(`Unknown request URL: ${method} ${path}.`, { code: 'unknown_url' }),
  bodyTooLarge: (maxBytes: number) =>
    new PayloadTooLargeError(
      `The request body is larger than ${maxBytes} bytes. Send large files with the Uploads API.`,
    ),
} as const;

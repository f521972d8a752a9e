import { randomBytes } from 'node:crypto';
import { Webhook, WebhookVerificationError } from 'standardwebhooks';

export { WebhookVerificationError };

/** Standard Webhooks' marker for a symmetric (HMAC-SHA256) signing secret. */
export const WEBHOOK_SECRET_PREFIX = 'whsec_';
/** The scheme asks for at least 24 random bytes. */
const SECRET_BYTES = 24;

/** `whsec_` and the base64 of 24 random bytes, as Standard Webhooks serializes secrets. */
export function generateWebhookSecret(): string {
  return `${WEBHOOK_SECRET_PREFIX}${randomBytes(SECRET_BYTES).toString('base64')}`;
}

/** The headers that carry a delivery's identity and signature, as Standard Webhooks names them. */
export interface WebhookSignatureHeaders {
  readonly 'webhook-id': string;
  readonly 'webhook-timestamp': string;
  readonly 'webhook-signature': string;
}

/** `v1,{base64 HMAC-SHA256 of "{messageId}.{timestamp}.{payload}"}`. */
export function signWebhook(
  secret: string,
  messageId: string,
  timestampSeconds: number,
  payload: string,
): string {
  return new Webhook(secret).sign(messageId, new Date(timestampSeconds * 1000), payload);
}

/**
 * The signed headers of one attempt. The id stays the same on every retry of an event (receivers
 * deduplicate by it); the timestamp is the attempt's, so an old attempt cannot be replayed.
 */
export function signedWebhookHeaders(
  secret: string,
  messageId: string,
  timestampSeconds: number,
  payload: string,
): WebhookSignatureHeaders {
  return {
    'webhook-id': messageId,
    'webhook-timestamp': String(timestampSeconds),
    'webhook-signature': signWebhook(secret, messageId, timestampSeconds, payload),
  };
}

/**
 * What a receiver does: checks a signature in the headers matches and the timestamp is within
 * five minutes of the clock, then returns the parsed payload. Throws `WebhookVerificationError`.
 */
export function verifyWebhook(
  secret: string,
  payload: string,
  headers: WebhookSignatureHeaders | Readonly<Record<string, string>>,
): unknown {
  return new Webhook(secret).verify(payload, { ...headers });
}

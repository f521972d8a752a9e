import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  generateWebhookSecret,
  signedWebhookHeaders,
  signWebhook,
  verifyWebhook,
  WebhookVerificationError,
} from '../../../lib/core/webhooks';

/**
 * The Standard Webhooks reference vector, from the specification repository's JavaScript library
 * tests (standard-webhooks/standard-webhooks, libraries/javascript/src/webhook.test.ts, "sign
 * function works").
 */
const VECTOR = {
  secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  messageId: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
  timestamp: 1614265330,
  payload: '{"test": 2432232314}',
  signature: 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
} as const;

const vectorHeaders = {
  'webhook-id': VECTOR.messageId,
  'webhook-timestamp': String(VECTOR.timestamp),
  'webhook-signature': VECTOR.signature,
};

describe('webhook signing', () => {
  beforeEach(() => {
    // Verification checks the timestamp against the clock; the vector's moment stands in for now.
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date((VECTOR.timestamp + 30) * 1000));
  });
  afterEach(() => vi.useRealTimers());

  it('signs the reference vector to its published signature', () => {
    // Act
    const signature = signWebhook(VECTOR.secret, VECTOR.messageId, VECTOR.timestamp, VECTOR.payload);

    // Assess
    expect(signature).toBe(VECTOR.signature);
  });

  it('builds the three Standard Webhooks headers from the vector', () => {
    // Act
    const headers = signedWebhookHeaders(VECTOR.secret, VECTOR.messageId, VECTOR.timestamp, VECTOR.payload);

    // Assess
    expect(headers).toEqual(vectorHeaders);
  });

  it('verifies the reference vector and returns its parsed payload', () => {
    // Act
    const payload = verifyWebhook(VECTOR.secret, VECTOR.payload, vectorHeaders);

    // Assess
    expect(payload).toEqual({ test: 2432232314 });
  });

  it('accepts header names in any case, as HTTP servers hand them over', () => {
    // Act
    const payload = verifyWebhook(VECTOR.secret, VECTOR.payload, {
      'Webhook-Id': VECTOR.messageId,
      'Webhook-Timestamp': String(VECTOR.timestamp),
      'Webhook-Signature': VECTOR.signature,
    });

    // Assess
    expect(payload).toEqual({ test: 2432232314 });
  });

  it('rejects a payload changed by one character', () => {
    // Prepare
    const tampered = '{"test": 2432232315}';

    // Act
    const verify = () => verifyWebhook(VECTOR.secret, tampered, vectorHeaders);

    // Assess
    expect(verify).toThrow(WebhookVerificationError);
    expect(verify).toThrow('No matching signature found');
  });

  it('rejects a timestamp changed by one second, though still within the tolerance', () => {
    // Prepare
    const headers = { ...vectorHeaders, 'webhook-timestamp': String(VECTOR.timestamp + 1) };

    // Act
    const verify = () => verifyWebhook(VECTOR.secret, VECTOR.payload, headers);

    // Assess
    expect(verify).toThrow('No matching signature found');
  });

  it('rejects another message id', () => {
    // Prepare
    const headers = { ...vectorHeaders, 'webhook-id': 'msg_p5jXN8AQM9LWM0D4loKWxJel' };

    // Act
    const verify = () => verifyWebhook(VECTOR.secret, VECTOR.payload, headers);

    // Assess
    expect(verify).toThrow('No matching signature found');
  });

  it('rejects the right signature once the timestamp is more than five minutes old', () => {
    // Prepare
    vi.setSystemTime(new Date((VECTOR.timestamp + 5 * 60 + 1) * 1000));

    // Act
    const verify = () => verifyWebhook(VECTOR.secret, VECTOR.payload, vectorHeaders);

    // Assess
    expect(verify).toThrow('Message timestamp too old');
  });

  it('rejects a signature made with another secret', () => {
    // Prepare
    const otherSecret = generateWebhookSecret();
    const headers = signedWebhookHeaders(otherSecret, VECTOR.messageId, VECTOR.timestamp, VECTOR.payload);

    // Act
    const verify = () => verifyWebhook(VECTOR.secret, VECTOR.payload, headers);

    // Assess
    expect(verify).toThrow('No matching signature found');
  });
});

describe('generateWebhookSecret', () => {
  it('makes whsec_ and the base64 of 24 random bytes, different every time', () => {
    // Act
    const secrets = [generateWebhookSecret(), generateWebhookSecret()];

    // Assess
    for (const secret of secrets) {
      expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{32}$/);
      expect(Buffer.from(secret.slice('whsec_'.length), 'base64')).toHaveLength(24);
    }
    expect(secrets[0]).not.toBe(secrets[1]);
  });

  it('makes secrets that sign and verify a round trip', () => {
    // Prepare
    const secret = generateWebhookSecret();
    const payload = JSON.stringify({ id: 'evt_1', object: 'event' });
    const now = Math.floor(Date.now() / 1000);

    // Act
    const headers = signedWebhookHeaders(secret, 'evt_1', now, payload);

    // Assess
    expect(verifyWebhook(secret, payload, headers)).toEqual({ id: 'evt_1', object: 'event' });
  });
});

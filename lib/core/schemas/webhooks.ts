import { z } from 'zod';
import { unixSeconds } from './common';

/** OpenAI's fine-tuning webhook events, plus `paused`, which Whetstone's pause produces. */
export const WEBHOOK_EVENT_TYPES = [
  'fine_tuning.job.succeeded',
  'fine_tuning.job.failed',
  'fine_tuning.job.cancelled',
  'fine_tuning.job.paused',
] as const;
export const webhookEventTypeSchema = z.enum(WEBHOOK_EVENT_TYPES);
export type WebhookEventType = z.infer<typeof webhookEventTypeSchema>;

export const MAX_WEBHOOK_URL_LENGTH = 2048;
/** Hosts that only this machine reaches, where plain HTTP exposes nothing in transit. */
const LOOPBACK_HOSTS = ['127.0.0.1', 'localhost'];

/**
 * Where events are POSTed. Payloads travel in clear over plain HTTP, so it is accepted only for
 * the loopback host (local development and tests). Credentials in the URL would be sent on every
 * delivery and shown in every listing, so they are refused.
 */
export const webhookUrlSchema = z
  .string()
  .max(MAX_WEBHOOK_URL_LENGTH)
  .superRefine((value, context) => {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      context.addIssue({ code: 'custom', message: 'must be an absolute http(s) URL' });
      return;
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
      context.addIssue({ code: 'custom', message: `must use https, not '${url.protocol.slice(0, -1)}'` });
    } else if (url.protocol === 'http:' && !LOOPBACK_HOSTS.includes(url.hostname)) {
      context.addIssue({ code: 'custom', message: 'must use https (http only for 127.0.0.1 or localhost)' });
    }
    if (url.username !== '' || url.password !== '') {
      context.addIssue({ code: 'custom', message: 'must not carry credentials' });
    }
  });

export const webhookEndpointSchema = z.object({
  id: z.string(),
  object: z.literal('webhook_endpoint'),
  url: z.string(),
  events: z.array(webhookEventTypeSchema),
  created_at: unixSeconds,
  description: z.string().nullable(),
});
export type WebhookEndpoint = z.infer<typeof webhookEndpointSchema>;

/**
 * Returned once, by create. Signing needs the secret, so the endpoint's record keeps it, but
 * no other response ever carries it.
 */
export const createdWebhookEndpointSchema = webhookEndpointSchema.extend({ secret: z.string() });
export type CreatedWebhookEndpoint = z.infer<typeof createdWebhookEndpointSchema>;

export const createWebhookEndpointRequestSchema = z.strictObject({
  url: webhookUrlSchema,
  events: z
    .array(webhookEventTypeSchema)
    .min(1)
    .refine((events) => new Set(events).size === events.length, { message: 'must not repeat an event type' })
    .default([...WEBHOOK_EVENT_TYPES]),
  description: z.string().min(1).max(512).optional(),
});
export type CreateWebhookEndpointRequest = z.infer<typeof createWebhookEndpointRequestSchema>;

export const webhookEndpointDeletedSchema = z.object({
  id: z.string(),
  object: z.literal('webhook_endpoint'),
  deleted: z.literal(true),
});

/** The body every endpoint receives, as OpenAI's: thin, naming the job only. */
export const webhookEventSchema = z.object({
  id: z.string(),
  object: z.literal('event'),
  created_at: unixSeconds,
  type: webhookEventTypeSchema,
  data: z.object({ id: z.string() }),
});
export type WebhookEvent = z.infer<typeof webhookEventSchema>;

export const WEBHOOK_DELIVERY_STATUSES = ['pending', 'succeeded', 'failed'] as const;

export const webhookDeliveryAttemptSchema = z.object({
  at: unixSeconds,
  /** The endpoint's HTTP status; `null` when no response came (refused, timed out). */
  status_code: z.number().int().nullable(),
  /** Why the attempt did not succeed; `null` for a 2xx. */
  error: z.string().nullable(),
  duration_ms: z.number().int().nonnegative(),
});
export type WebhookDeliveryAttempt = z.infer<typeof webhookDeliveryAttemptSchema>;

/**
 * One event on its way to one endpoint. The delivery is created with its event, so its
 * `created_at` is the event's and the event's body can be rebuilt from the delivery alone.
 */
export const webhookDeliverySchema = z.object({
  id: z.string(),
  object: z.literal('webhook_delivery'),
  endpoint_id: z.string(),
  event_id: z.string(),
  event_type: webhookEventTypeSchema,
  job_id: z.string(),
  status: z.enum(WEBHOOK_DELIVERY_STATUSES),
  attempts: z.array(webhookDeliveryAttemptSchema),
  /** When the next attempt is due (the second it falls in); `null` once the delivery is settled. */
  next_attempt_at: unixSeconds.nullable(),
  /** Why a `failed` delivery gave up; `null` otherwise. */
  failure_reason: z.string().nullable(),
  created_at: unixSeconds,
});
export type WebhookDelivery = z.infer<typeof webhookDeliverySchema>;

export const listWebhookDeliveriesQuerySchema = z.strictObject({
  after: z.string().min(1).max(64).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  endpoint_id: z.string().min(1).max(64).optional(),
});
export type ListWebhookDeliveriesQuery = z.infer<typeof listWebhookDeliveriesQuerySchema>;

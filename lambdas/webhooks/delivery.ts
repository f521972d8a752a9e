import { lookup } from 'node:dns/promises';
import type { DeliveryMessage, DeliveryQueue, WebhookStore } from '../../lib/adapters';
import type { WebhookDelivery, WebhookDeliveryAttempt, WebhookEvent } from '../../lib/core/schemas';
import { isPublicAddress, nonPublicHostProblem, signedWebhookHeaders } from '../../lib/core/webhooks';
import type { WebhookConfig } from '../runtime/config';

export interface DeliveryDependencies {
  readonly stores: { readonly webhooks: WebhookStore };
  readonly deliveryQueue: DeliveryQueue;
  readonly config: {
    readonly webhooks: Pick<WebhookConfig, 'retryBaseSeconds' | 'maxAttempts' | 'allowPrivateDestinations'>;
  };
}

/** An endpoint that has not answered by then counts as failed for this attempt. */
export const DELIVERY_TIMEOUT_MS = 10_000;
export const WEBHOOK_USER_AGENT = 'Whetstone-Webhooks';

/** What one message led to; for logs and tests. */
export type DeliveryOutcome =
  /** A 2xx: the delivery is settled. */
  | 'succeeded'
  /** Not delivered; the next attempt is queued. */
  | 'retrying'
  /** Not delivered, and no attempt is left (or the endpoint is gone). */
  | 'failed'
  /** The message came before its attempt was due (the queue's delay is capped); it is queued again. */
  | 'deferred'
  /** Nothing to do: the delivery is gone or settled, or another worker recorded this attempt first. */
  | 'skipped';

/** Seconds before attempt `attemptsMade + 1`: the base, then five times longer after each failure. */
export function retryDelaySeconds(retryBaseSeconds: number, attemptsMade: number): number {
  return retryBaseSeconds * 5 ** (attemptsMade - 1);
}

/** The event a delivery carries, byte for byte the same on every attempt (it is what gets signed). */
export function eventOfDelivery(delivery: WebhookDelivery): WebhookEvent {
  return {
    id: delivery.event_id,
    object: 'event',
    created_at: delivery.created_at,
    type: delivery.event_type,
    data: { id: delivery.job_id },
  };
}

/**
 * Makes the attempt a queue message asks for: POSTs the signed event to the endpoint, records the
 * attempt, and queues the next one or settles the delivery. The record is written only over the
 * state the attempt started from, so a message handed to two workers is recorded once; both may
 * POST, which receivers absorb by `webhook-id`, the same on every attempt.
 */
export async function attemptDelivery(
  dependencies: DeliveryDependencies,
  message: DeliveryMessage,
): Promise<DeliveryOutcome> {
  const { webhooks } = dependencies.stores;
  const delivery = await webhooks.getDelivery(message.team, message.deliveryId);
  if (delivery?.status !== 'pending') return 'skipped';

  const startedAt = Date.now();
  const nowSeconds = Math.floor(startedAt / 1000);
  if (delivery.next_attempt_at !== null && nowSeconds < delivery.next_attempt_at) {
    await dependencies.deliveryQueue.enqueue(message, delivery.next_attempt_at - nowSeconds);
    return 'deferred';
  }

  const expectedAttempts = delivery.attempts.length;
  const endpoint = await webhooks.getEndpoint(message.team, delivery.endpoint_id);
  if (!endpoint) {
    const recorded = await webhooks.recordAttempt(message.team, delivery.id, {
      expectedAttempts,
      status: 'failed',
      nextAttemptAt: null,
      failureReason: `The endpoint ${delivery.endpoint_id} was deleted before the event was delivered.`,
    });
    return recorded ? 'failed' : 'skipped';
  }

  const payload = JSON.stringify(eventOfDelivery(delivery));
  const refused = dependencies.config.webhooks.allowPrivateDestinations
    ? undefined
    : await nonPublicDestination(endpoint.url);
  const result =
    refused ??
    (await post(endpoint.url, payload, {
      'content-type': 'application/json',
      'user-agent': WEBHOOK_USER_AGENT,
      ...signedWebhookHeaders(endpoint.secret, delivery.event_id, nowSeconds, payload),
    }));
  const attempt: WebhookDeliveryAttempt = {
    at: nowSeconds,
    status_code: result.statusCode,
    error: result.error,
    duration_ms: Math.max(0, Math.round(Date.now() - startedAt)),
  };
  const attemptsMade = expectedAttempts + 1;
  const { retryBaseSeconds, maxAttempts } = dependencies.config.webhooks;

  if (result.error === null || attemptsMade >= maxAttempts) {
    const succeeded = result.error === null;
    const recorded = await webhooks.recordAttempt(message.team, delivery.id, {
      expectedAttempts,
      attempt,
      status: succeeded ? 'succeeded' : 'failed',
      nextAttemptAt: null,
      failureReason: succeeded
        ? null
        : `No 2xx response in ${attemptsMade} attempts; the last: ${result.error}`,
    });
    if (!recorded) return 'skipped';
    return succeeded ? 'succeeded' : 'failed';
  }

  const delaySeconds = retryDelaySeconds(retryBaseSeconds, attemptsMade);
  const recorded = await webhooks.recordAttempt(message.team, delivery.id, {
    expectedAttempts,
    attempt,
    status: 'pending',
    // The second the attempt falls due in, so a message arriving on time is never deferred.
    nextAttemptAt: Math.floor((startedAt + delaySeconds * 1000) / 1000),
    failureReason: null,
  });
  if (!recorded) return 'skipped';
  await dependencies.deliveryQueue.enqueue(message, delaySeconds);
  return 'retrying';
}

interface PostResult {
  readonly statusCode: number | null;
  /** `null` exactly when the endpoint answered 2xx. */
  readonly error: string | null;
}

/** One POST; redirects are reported, never followed, so a delivery reaches only the registered URL. */
async function post(url: string, body: string, headers: Record<string, string>): Promise<PostResult> {
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers,
      body,
      redirect: 'manual',
      signal: AbortSignal.timeout(DELIVERY_TIMEOUT_MS),
    });
  } catch (error) {
    return { statusCode: null, error: describeFetchFailure(error) };
  }
  // The answer's body is not read; cancelling it frees the connection.
  await response.body?.cancel().catch(() => undefined);
  const statusCode = response.status;
  if (statusCode >= 200 && statusCode < 300) return { statusCode, error: null };
  if (statusCode >= 300 && statusCode < 400) {
    // Where it pointed stays out of the log: a team must not learn the inside of the network.
    return { statusCode, error: `HTTP ${statusCode}: redirects are not followed; register the final URL` };
  }
  return { statusCode, error: `HTTP ${statusCode}` };
}

/**
 * Deliveries from a deployment go to public addresses only, checked on what the name resolves to
 * now, since a public name can be pointed at an inside address after it was registered.
 */
async function nonPublicDestination(url: string): Promise<PostResult | undefined> {
  const { hostname } = new URL(url);
  const literal = nonPublicHostProblem(hostname);
  if (literal) return { statusCode: null, error: `not delivered: ${literal}` };
  let addresses: { address: string }[];
  try {
    // A resolver that never answers must not hold the delivery past its own time limit.
    addresses = await Promise.race([
      lookup(hostname.replace(/^\[(.*)\]$/, '$1'), { all: true }),
      new Promise<never>((_, reject) =>
        setTimeout(
          () => reject(Object.assign(new Error('lookup timed out'), { code: 'ETIMEOUT' })),
          DELIVERY_TIMEOUT_MS,
        ).unref(),
      ),
    ]);
  } catch (error) {
    return {
      statusCode: null,
      error: `not delivered: ${hostname} does not resolve (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
    };
  }
  if (addresses.some(({ address }) => !isPublicAddress(address))) {
    return {
      statusCode: null,
      error: `not delivered: ${hostname} resolves to an address that is not public`,
    };
  }
  return undefined;
}

function describeFetchFailure(error: unknown): string {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
    return `no response within ${DELIVERY_TIMEOUT_MS / 1000} s`;
  }
  const cause =
    error instanceof Error ? (error.cause as { code?: string; message?: string } | undefined) : undefined;
  const detail = cause?.code ?? cause?.message;
  const message = error instanceof Error ? error.message : String(error);
  return detail ? `${message}: ${detail}` : message;
}

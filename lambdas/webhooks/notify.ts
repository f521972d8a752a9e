import type { DeliveryQueue, EventPublisher, StoredWebhookEndpoint, WebhookStore } from '../../lib/adapters';
import { newId } from '../../lib/core/ids';
import type { JobStatus, WebhookDelivery, WebhookEvent, WebhookEventType } from '../../lib/core/schemas';

export interface NotifyDependencies {
  readonly stores: { readonly webhooks: WebhookStore };
  readonly deliveryQueue: DeliveryQueue;
  readonly eventPublisher: EventPublisher;
}

/** The job statuses a notification announces, and the event type that announces each. */
const EVENT_TYPE_OF_STATUS: Partial<Record<JobStatus, WebhookEventType>> = {
  succeeded: 'fine_tuning.job.succeeded',
  failed: 'fine_tuning.job.failed',
  cancelled: 'fine_tuning.job.cancelled',
  paused: 'fine_tuning.job.paused',
};

const ENDPOINT_PAGE_SIZE = 100;

/**
 * Announces that a job reached `status`: one event, a `pending` delivery to each of the team's
 * endpoints subscribed to its type (queued at once), and the event on the bus. Other statuses
 * announce nothing. Call it once per transition, after the transition is recorded. Every
 * delivery and the bus are attempted even when one fails; then the failures are thrown together.
 */
export async function notifyJobStatus(
  dependencies: NotifyDependencies,
  team: string,
  job: { readonly id: string; readonly status: JobStatus },
  now: number,
): Promise<void> {
  const type = EVENT_TYPE_OF_STATUS[job.status];
  if (!type) return;
  const event: WebhookEvent = {
    id: newId('webhookEvent', now),
    object: 'event',
    created_at: Math.floor(now / 1000),
    type,
    data: { id: job.id },
  };
  const endpoints = (await allEndpoints(dependencies.stores.webhooks, team)).filter((endpoint) =>
    endpoint.events.includes(type),
  );
  const outcomes = await Promise.allSettled([
    ...endpoints.map((endpoint) => startDelivery(dependencies, team, event, endpoint, now)),
    dependencies.eventPublisher.publish(team, event),
  ]);
  const failures = outcomes.flatMap((outcome) => (outcome.status === 'rejected' ? [outcome.reason] : []));
  if (failures.length > 0) {
    throw new AggregateError(
      failures,
      `notifying ${event.type} of ${job.id} failed ${failures.length} time(s)`,
    );
  }
}

async function startDelivery(
  dependencies: NotifyDependencies,
  team: string,
  event: WebhookEvent,
  endpoint: StoredWebhookEndpoint,
  now: number,
): Promise<void> {
  const delivery: WebhookDelivery = {
    id: newId('webhookDelivery', now),
    object: 'webhook_delivery',
    endpoint_id: endpoint.id,
    event_id: event.id,
    event_type: event.type,
    job_id: event.data.id,
    status: 'pending',
    attempts: [],
    next_attempt_at: event.created_at,
    failure_reason: null,
    created_at: event.created_at,
  };
  await dependencies.stores.webhooks.putDelivery(team, delivery);
  try {
    await dependencies.deliveryQueue.enqueue({ team, deliveryId: delivery.id }, 0);
  } catch (error) {
    // Unqueued, the delivery would read `pending` forever; the log says instead why it never left.
    await dependencies.stores.webhooks.recordAttempt(team, delivery.id, {
      expectedAttempts: 0,
      status: 'failed',
      nextAttemptAt: null,
      failureReason: `The delivery could not be queued: ${error instanceof Error ? error.message : String(error)}`,
    });
    throw error;
  }
}

async function allEndpoints(webhooks: WebhookStore, team: string): Promise<StoredWebhookEndpoint[]> {
  const endpoints: StoredWebhookEndpoint[] = [];
  let after: string | undefined;
  for (;;) {
    const page = await webhooks.listEndpoints(team, {
      limit: ENDPOINT_PAGE_SIZE,
      ...(after !== undefined ? { after } : {}),
    });
    endpoints.push(...page.items);
    after = page.items.at(-1)?.id;
    if (!page.hasMore || after === undefined) return endpoints;
  }
}

import type { Page, StoredWebhookEndpoint, WebhookStore } from '../../lib/adapters';
import { InvalidRequestError, NotFoundError } from '../../lib/core/errors';
import { isId, newId } from '../../lib/core/ids';
import {
  type CreatedWebhookEndpoint,
  type CreateWebhookEndpointRequest,
  type ListWebhookDeliveriesQuery,
  type PageQuery,
  type WebhookDelivery,
  type WebhookEndpoint,
  webhookEndpointSchema,
} from '../../lib/core/schemas';
import { generateWebhookSecret, nonPublicHostProblem } from '../../lib/core/webhooks';

export interface WebhookServiceStores {
  readonly webhooks: WebhookStore;
}

/** Every event fans out to each of a team's endpoints; the cap bounds that fan-out. */
export const MAX_WEBHOOK_ENDPOINTS_PER_TEAM = 20;

/** The endpoint as every response but create's shows it: without its secret. */
export function publicEndpoint(endpoint: StoredWebhookEndpoint): WebhookEndpoint {
  return webhookEndpointSchema.parse(endpoint);
}

export async function createWebhookEndpoint(
  stores: WebhookServiceStores,
  team: string,
  request: CreateWebhookEndpointRequest,
  now: number,
  options: { readonly allowPrivateDestinations: boolean },
): Promise<CreatedWebhookEndpoint> {
  const destination = options.allowPrivateDestinations
    ? undefined
    : nonPublicHostProblem(new URL(request.url).hostname);
  if (destination) {
    throw new InvalidRequestError(`url must reach a public address: ${destination}.`, {
      param: 'url',
      code: 'invalid_webhook_url',
    });
  }
  const existing = await stores.webhooks.listEndpoints(team, { limit: MAX_WEBHOOK_ENDPOINTS_PER_TEAM });
  if (existing.items.length >= MAX_WEBHOOK_ENDPOINTS_PER_TEAM) {
    throw new InvalidRequestError(
      `A team has at most ${MAX_WEBHOOK_ENDPOINTS_PER_TEAM} webhook endpoints; delete one first.`,
      { param: 'url', code: 'too_many_webhook_endpoints' },
    );
  }
  const endpoint: CreatedWebhookEndpoint = {
    id: newId('webhook', now),
    object: 'webhook_endpoint',
    url: request.url,
    events: [...request.events],
    created_at: Math.floor(now / 1000),
    description: request.description ?? null,
    secret: generateWebhookSecret(),
  };
  await stores.webhooks.putEndpoint(team, endpoint);
  return endpoint;
}

export async function listWebhookEndpoints(
  stores: WebhookServiceStores,
  team: string,
  query: PageQuery,
): Promise<Page<WebhookEndpoint>> {
  if (query.after !== undefined && !isId('webhook', query.after)) {
    throw new InvalidRequestError(`after must be a webhook endpoint id, not '${query.after}'.`, {
      param: 'after',
    });
  }
  const page = await stores.webhooks.listEndpoints(team, query);
  return { items: page.items.map(publicEndpoint), hasMore: page.hasMore };
}

/** Deliveries still pending to the endpoint end `failed` at their next attempt; the log keeps them. */
export async function deleteWebhookEndpoint(
  stores: WebhookServiceStores,
  team: string,
  endpointId: string,
): Promise<void> {
  // Of two concurrent deletes, only the one that removed the record answers that it did.
  if (!isId('webhook', endpointId) || !(await stores.webhooks.deleteEndpoint(team, endpointId))) {
    throw new NotFoundError(`No such webhook endpoint: ${endpointId}`, { param: 'webhook_id' });
  }
}

/** The team's delivery log, newest first; deliveries to deleted endpoints stay listed. */
export async function listWebhookDeliveries(
  stores: WebhookServiceStores,
  team: string,
  query: ListWebhookDeliveriesQuery,
): Promise<Page<WebhookDelivery>> {
  if (query.after !== undefined && !isId('webhookDelivery', query.after)) {
    throw new InvalidRequestError(`after must be a webhook delivery id, not '${query.after}'.`, {
      param: 'after',
    });
  }
  if (query.endpoint_id !== undefined && !isId('webhook', query.endpoint_id)) {
    throw new InvalidRequestError(`endpoint_id must be a webhook endpoint id, not '${query.endpoint_id}'.`, {
      param: 'endpoint_id',
    });
  }
  return stores.webhooks.listDeliveries(team, {
    limit: query.limit,
    ...(query.after !== undefined ? { after: query.after } : {}),
    ...(query.endpoint_id !== undefined ? { endpointId: query.endpoint_id } : {}),
  });
}

import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import {
  type CreatedWebhookEndpoint,
  createdWebhookEndpointSchema,
  type WebhookDelivery,
  type WebhookDeliveryAttempt,
  webhookDeliverySchema,
} from '../../core/schemas';
import { isConditionalCheckFailure, type Page, queryPage } from './query';
import { parseItem } from './records';
import { keys } from './table';

/** An endpoint as stored: with its signing secret, which only the deliverer reads. */
export type StoredWebhookEndpoint = CreatedWebhookEndpoint;

export interface WebhookPageQuery {
  readonly after?: string;
  readonly limit: number;
}

export interface WebhookDeliveryListQuery extends WebhookPageQuery {
  readonly endpointId?: string;
}

/** The outcome of one attempt, written only over the state the attempt started from. */
export interface DeliveryAttemptRecord {
  /** How many attempts the delivery held when this one started: the record's version. */
  readonly expectedAttempts: number;
  /** The attempt itself; absent when the delivery ends without one (its endpoint is gone). */
  readonly attempt?: WebhookDeliveryAttempt;
  readonly status: WebhookDelivery['status'];
  readonly nextAttemptAt: number | null;
  readonly failureReason: string | null;
}

export interface WebhookStore {
  putEndpoint(team: string, endpoint: StoredWebhookEndpoint): Promise<void>;
  getEndpoint(team: string, endpointId: string): Promise<StoredWebhookEndpoint | undefined>;
  /** Newest first. */
  listEndpoints(team: string, query: WebhookPageQuery): Promise<Page<StoredWebhookEndpoint>>;
  /** Returns whether the team had the endpoint. */
  deleteEndpoint(team: string, endpointId: string): Promise<boolean>;
  putDelivery(team: string, delivery: WebhookDelivery): Promise<void>;
  getDelivery(team: string, deliveryId: string): Promise<WebhookDelivery | undefined>;
  /** Newest first, optionally one endpoint's only. */
  listDeliveries(team: string, query: WebhookDeliveryListQuery): Promise<Page<WebhookDelivery>>;
  /**
   * Appends an attempt and moves the delivery on, only if it is still `pending` with exactly
   * `expectedAttempts` attempts; returns the updated delivery, or `undefined` when another
   * worker recorded first (or the delivery is gone), so no attempt is ever recorded twice.
   */
  recordAttempt(
    team: string,
    deliveryId: string,
    record: DeliveryAttemptRecord,
  ): Promise<WebhookDelivery | undefined>;
}

const ENDPOINT_PREFIX = 'WEBHOOK#';
const DELIVERY_PREFIX = 'WEBHOOKDELIVERY#';

export class DynamoWebhookStore implements WebhookStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async putEndpoint(team: string, endpoint: StoredWebhookEndpoint): Promise<void> {
    await this.client.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { ...keys.webhook(team, endpoint.id), entity: 'webhook', ...endpoint },
      }),
    );
  }

  async getEndpoint(team: string, endpointId: string): Promise<StoredWebhookEndpoint | undefined> {
    const output = await this.client.send(
      new GetCommand({
        TableName: this.tableName,
        Key: keys.webhook(team, endpointId),
        ConsistentRead: true,
      }),
    );
    return output.Item ? parseItem(createdWebhookEndpointSchema, output.Item) : undefined;
  }

  async listEndpoints(team: string, query: WebhookPageQuery): Promise<Page<StoredWebhookEndpoint>> {
    const result = await queryPage<Record<string, unknown>>(
      this.client,
      {
        TableName: this.tableName,
        KeyConditionExpression: 'PK = :pk AND begins_with(SK, :prefix)',
        ExpressionAttributeValues: { ':pk': keys.webhook(team, '').PK, ':prefix': ENDPOINT_PREFIX },
        ScanIndexForward: false,
        ConsistentRead: true,
        ...(query.after ? { ExclusiveStartKey: keys.webhook(team, query.after) } : {}),
      },
      query.limit,
    );
    return {
      items: result.items.map((item) => parseItem(createdWebhookEndpointSchema, item)),
      hasMore: result.hasMore,
    };
  }

  async deleteEndpoint(team: string, endpointId: string): Promise<boolean> {
    const output = await this.client.send(
      new DeleteCommand({
        TableName: this.tableName,
        Key: keys.webhook(team, endpointId),
        ReturnValues: 'ALL_OLD',
      }),
    );
    return output.Attributes !== undefined;
  }

  async putDelivery(team: string, delivery: WebhookDelivery): Promise<void> {
    await this.client.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { ...keys.webhookDelivery(team, delivery.id), entity: 'webhook_delivery', ...delivery },
      }),
    );
  }

  async getDelivery(team: string, deliveryId: string): Promise<WebhookDelivery | undefined> {
    const output = await this.client.send(
      new GetCommand({
        TableName: this.tableName,
        Key: keys.webhookDelivery(team, deliveryId),
        ConsistentRead: true,
      }),
    );
    return output.Item ? parseItem(webhookDeliverySchema, output.Item) : undefined;
  }

  async listDeliveries(team: string, query: WebhookDeliveryListQuery): Promise<Page<WebhookDelivery>> {
    const result = await queryPage<Record<string, unknown>>(
      this.client,
      {
        TableName: this.tableName,
        KeyConditionExpression: 'PK = :pk AND begins_with(SK, :prefix)',
        ExpressionAttributeValues: {
          ':pk': keys.webhookDelivery(team, '').PK,
          ':prefix': DELIVERY_PREFIX,
          ...(query.endpointId ? { ':endpoint': query.endpointId } : {}),
        },
        ...(query.endpointId ? { FilterExpression: 'endpoint_id = :endpoint' } : {}),
        ScanIndexForward: false,
        ...(query.after ? { ExclusiveStartKey: keys.webhookDelivery(team, query.after) } : {}),
      },
      query.limit,
    );
    return {
      items: result.items.map((item) => parseItem(webhookDeliverySchema, item)),
      hasMore: result.hasMore,
    };
  }

  async recordAttempt(
    team: string,
    deliveryId: string,
    record: DeliveryAttemptRecord,
  ): Promise<WebhookDelivery | undefined> {
    try {
      const output = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.webhookDelivery(team, deliveryId),
          UpdateExpression: [
            'SET #status = :status, next_attempt_at = :next, failure_reason = :reason',
            ...(record.attempt ? [', attempts = list_append(attempts, :attempt)'] : []),
          ].join(''),
          ConditionExpression: 'attribute_exists(PK) AND #status = :pending AND size(attempts) = :expected',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':status': record.status,
            ':next': record.nextAttemptAt,
            ':reason': record.failureReason,
            ':pending': 'pending',
            ':expected': record.expectedAttempts,
            ...(record.attempt ? { ':attempt': [record.attempt] } : {}),
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return output.Attributes ? parseItem(webhookDeliverySchema, output.Attributes) : undefined;
    } catch (error) {
      if (isConditionalCheckFailure(error)) return undefined;
      throw error;
    }
  }
}

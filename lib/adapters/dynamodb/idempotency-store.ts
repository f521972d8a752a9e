import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { isConditionalCheckFailure } from './query';
import { fromItem } from './records';
import { keys, TTL_ATTRIBUTE } from './table';

export interface StoredResponse {
  readonly statusCode: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

export interface IdempotencyRecord {
  readonly key: string;
  readonly fingerprint: string;
  readonly state: 'in_progress' | 'completed';
  readonly response?: StoredResponse;
}

export interface IdempotencyStore {
  /** Claims the key for this request; returns the existing record when the key was already used. */
  claim(
    team: string,
    key: string,
    fingerprint: string,
    expiresAt: number,
  ): Promise<IdempotencyRecord | undefined>;
  complete(team: string, key: string, response: StoredResponse): Promise<void>;
  /** Frees a key whose request failed, so a retry runs afresh. */
  release(team: string, key: string): Promise<void>;
}

export class DynamoIdempotencyStore implements IdempotencyStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async claim(
    team: string,
    key: string,
    fingerprint: string,
    expiresAt: number,
  ): Promise<IdempotencyRecord | undefined> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            ...keys.idempotency(team, key),
            entity: 'idempotency',
            key,
            fingerprint,
            state: 'in_progress',
            [TTL_ATTRIBUTE]: expiresAt,
          },
          // DynamoDB's TTL deletes lazily; an expired record must not block its key meanwhile.
          ConditionExpression: 'attribute_not_exists(PK) OR expires_at_ttl < :now',
          ExpressionAttributeValues: { ':now': Math.floor(Date.now() / 1000) },
        }),
      );
      return undefined;
    } catch (error) {
      if (!isConditionalCheckFailure(error)) throw error;
    }
    const output = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: keys.idempotency(team, key), ConsistentRead: true }),
    );
    return output.Item ? fromItem<IdempotencyRecord>(output.Item) : undefined;
  }

  async complete(team: string, key: string, response: StoredResponse): Promise<void> {
    await this.client.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: keys.idempotency(team, key),
        UpdateExpression: 'SET #state = :completed, #response = :response',
        ExpressionAttributeNames: { '#state': 'state', '#response': 'response' },
        ExpressionAttributeValues: { ':completed': 'completed', ':response': response },
      }),
    );
  }

  async release(team: string, key: string): Promise<void> {
    await this.client.send(
      new DeleteCommand({ TableName: this.tableName, Key: keys.idempotency(team, key) }),
    );
  }
}

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
  readonly locked_until?: number;
}

export interface IdempotencyClaim {
  readonly fingerprint: string;
  /** Epoch seconds. */
  readonly now: number;
  /** When the record ages out (TTL), epoch seconds. */
  readonly expiresAt: number;
  /** Until when an unfinished claim holds the key; past it, a request that died is presumed gone. */
  readonly lockedUntil: number;
}

export interface IdempotencyStore {
  /** Claims the key for this request; returns the existing record when the key was already used. */
  claim(team: string, key: string, claim: IdempotencyClaim): Promise<IdempotencyRecord | undefined>;
  complete(team: string, key: string, response: StoredResponse): Promise<void>;
  /** Frees a key whose request failed, so a retry runs afresh. */
  release(team: string, key: string): Promise<void>;
}

export class DynamoIdempotencyStore implements IdempotencyStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async claim(team: string, key: string, claim: IdempotencyClaim): Promise<IdempotencyRecord | undefined> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            ...keys.idempotency(team, key),
            entity: 'idempotency',
            key,
            fingerprint: claim.fingerprint,
            state: 'in_progress',
            locked_until: claim.lockedUntil,
            [TTL_ATTRIBUTE]: claim.expiresAt,
          },
          // DynamoDB's TTL deletes lazily, so an aged-out record must not block its key meanwhile;
          // nor may the claim of a request that died before finishing.
          ConditionExpression:
            'attribute_not_exists(PK) OR #ttl < :now OR (#state = :in_progress AND locked_until < :now)',
          ExpressionAttributeNames: { '#ttl': TTL_ATTRIBUTE, '#state': 'state' },
          ExpressionAttributeValues: { ':now': claim.now, ':in_progress': 'in_progress' },
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

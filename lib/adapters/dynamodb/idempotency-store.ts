import { randomUUID } from 'node:crypto';
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

/** A claim names its holder by a random token, so only the request that made it can settle it. */
export type ClaimResult =
  | { readonly claimed: true; readonly token: string }
  | { readonly claimed: false; readonly existing: IdempotencyRecord };

export interface IdempotencyStore {
  /** Claims the key for this request, or returns the record of the request that holds or used it. */
  claim(team: string, key: string, claim: IdempotencyClaim): Promise<ClaimResult>;
  /** Keeps the response for replays; false when the claim was no longer this request's. */
  complete(team: string, key: string, token: string, response: StoredResponse): Promise<boolean>;
  /** Frees a key whose request failed, so a retry runs afresh; a claim taken over since is left alone. */
  release(team: string, key: string, token: string): Promise<void>;
}

export class DynamoIdempotencyStore implements IdempotencyStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async claim(team: string, key: string, claim: IdempotencyClaim): Promise<ClaimResult> {
    // A record can vanish between a refused put and the read (its holder released it): try again.
    for (let attempt = 0; attempt < 3; attempt++) {
      const token = randomUUID();
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
              claim_token: token,
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
        return { claimed: true, token };
      } catch (error) {
        if (!isConditionalCheckFailure(error)) throw error;
      }
      const output = await this.client.send(
        new GetCommand({ TableName: this.tableName, Key: keys.idempotency(team, key), ConsistentRead: true }),
      );
      if (output.Item) return { claimed: false, existing: fromItem<IdempotencyRecord>(output.Item) };
    }
    throw new Error(`idempotency key ${key} kept changing hands; gave up claiming it`);
  }

  async complete(team: string, key: string, token: string, response: StoredResponse): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.idempotency(team, key),
          UpdateExpression: 'SET #state = :completed, #response = :response',
          ConditionExpression: 'claim_token = :token',
          ExpressionAttributeNames: { '#state': 'state', '#response': 'response' },
          ExpressionAttributeValues: { ':completed': 'completed', ':response': response, ':token': token },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionalCheckFailure(error)) return false;
      throw error;
    }
  }

  async release(team: string, key: string, token: string): Promise<void> {
    try {
      await this.client.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: keys.idempotency(team, key),
          ConditionExpression: 'claim_token = :token',
          ExpressionAttributeValues: { ':token': token },
        }),
      );
    } catch (error) {
      if (!isConditionalCheckFailure(error)) throw error;
    }
  }
}

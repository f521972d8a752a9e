import { type DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import { type ApiKey, apiKeySchema } from '../../core/schemas';
import { isConditionalCheckFailure, type Page, queryPage } from './query';
import { parseItem } from './records';
import { GSI1, keys } from './table';

/** A key as stored: the listed object plus the hash of its secret, which never leaves the store. */
const storedApiKeySchema = apiKeySchema.extend({ secret_hash: z.string() });
export type StoredApiKey = z.infer<typeof storedApiKeySchema>;

export interface ApiKeyStore {
  create(key: StoredApiKey): Promise<void>;
  get(keyId: string): Promise<StoredApiKey | undefined>;
  listByTeam(team: string, page: { readonly after?: string; readonly limit: number }): Promise<Page<ApiKey>>;
  /** Marks the key revoked; returns the revoked key, or undefined when the team has no such key. */
  revoke(team: string, keyId: string, revokedAt: number): Promise<ApiKey | undefined>;
}

export class DynamoApiKeyStore implements ApiKeyStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async create(key: StoredApiKey): Promise<void> {
    await this.client.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { ...keys.apiKey(key.id), ...keys.apiKeyIndex(key.team, key.id), entity: 'api_key', ...key },
        ConditionExpression: 'attribute_not_exists(PK)',
      }),
    );
  }

  async get(keyId: string): Promise<StoredApiKey | undefined> {
    const output = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: keys.apiKey(keyId), ConsistentRead: true }),
    );
    return output.Item ? parseItem(storedApiKeySchema, output.Item) : undefined;
  }

  async listByTeam(
    team: string,
    page: { readonly after?: string; readonly limit: number },
  ): Promise<Page<ApiKey>> {
    const result = await queryPage<Record<string, unknown>>(
      this.client,
      {
        TableName: this.tableName,
        IndexName: GSI1,
        KeyConditionExpression: 'GSI1PK = :pk',
        ExpressionAttributeValues: { ':pk': `TEAM#${team}#APIKEYS` },
        ScanIndexForward: false,
        ...(page.after
          ? { ExclusiveStartKey: { ...keys.apiKey(page.after), ...keys.apiKeyIndex(team, page.after) } }
          : {}),
      },
      page.limit,
    );
    return { items: result.items.map(toListedKey), hasMore: result.hasMore };
  }

  async revoke(team: string, keyId: string, revokedAt: number): Promise<ApiKey | undefined> {
    try {
      const output = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.apiKey(keyId),
          UpdateExpression: 'SET revoked_at = :now',
          // A live key stores `revoked_at` as NULL, which `if_not_exists` would keep.
          ConditionExpression:
            'attribute_exists(PK) AND team = :team AND (attribute_not_exists(revoked_at) OR attribute_type(revoked_at, :null))',
          ExpressionAttributeValues: { ':now': revokedAt, ':team': team, ':null': 'NULL' },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return output.Attributes ? toListedKey(output.Attributes) : undefined;
    } catch (error) {
      if (!isConditionalCheckFailure(error)) throw error;
    }
    // Revoking twice answers with the key as first revoked; another team's key stays unseen.
    const existing = await this.get(keyId);
    if (!existing || existing.team !== team || existing.revoked_at === null) return undefined;
    const { secret_hash: _secretHash, ...listed } = existing;
    return listed;
  }
}

function toListedKey(item: Record<string, unknown>): ApiKey {
  const { secret_hash: _secretHash, ...listed } = parseItem(storedApiKeySchema, item);
  return listed;
}

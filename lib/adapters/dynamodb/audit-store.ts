import { type DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { type AuditRecord, auditRecordSchema } from '../../core/schemas';
import { type Page, queryPage } from './query';
import { parseItem } from './records';
import { GSI1, keys } from './table';

export interface AuditStore {
  append(record: AuditRecord): Promise<void>;
  /** One team's trail, or every team's when `team` is undefined; newest first. */
  list(query: {
    readonly team?: string;
    readonly after?: string;
    readonly limit: number;
  }): Promise<Page<AuditRecord>>;
}

export class DynamoAuditStore implements AuditStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async append(record: AuditRecord): Promise<void> {
    await this.client.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          ...keys.audit(record.team, record.id),
          ...keys.auditIndex(record.id),
          entity: 'audit',
          ...record,
        },
      }),
    );
  }

  async list(query: {
    readonly team?: string;
    readonly after?: string;
    readonly limit: number;
  }): Promise<Page<AuditRecord>> {
    const { team, after, limit } = query;
    // The all-teams view reads the GSI, whose cursor would need the base table's key too; its
    // sort key is the id itself, so a key condition on the id pages it instead.
    const input =
      team === undefined
        ? {
            IndexName: GSI1,
            KeyConditionExpression: after ? 'GSI1PK = :pk AND GSI1SK < :after' : 'GSI1PK = :pk',
            ExpressionAttributeValues: { ':pk': 'AUDIT', ...(after ? { ':after': after } : {}) },
          }
        : {
            KeyConditionExpression: 'PK = :pk AND begins_with(SK, :prefix)',
            ExpressionAttributeValues: { ':pk': keys.audit(team, '').PK, ':prefix': 'AUDIT#' },
            ...(after ? { ExclusiveStartKey: keys.audit(team, after) } : {}),
          };
    const result = await queryPage<Record<string, unknown>>(
      this.client,
      { TableName: this.tableName, ScanIndexForward: false, ...input },
      limit,
    );
    return { items: result.items.map((item) => parseItem(auditRecordSchema, item)), hasMore: result.hasMore };
  }
}

import { DeleteCommand, type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { type FileObject, fileObjectSchema } from '../../core/schemas';
import { type Page, queryPage } from './query';
import { parseItem } from './records';
import { keys } from './table';

export interface FileListQuery {
  readonly after?: string;
  readonly limit: number;
  readonly order: 'asc' | 'desc';
  readonly purpose?: FileObject['purpose'];
}

export interface FileStore {
  put(team: string, file: FileObject): Promise<void>;
  get(team: string, fileId: string): Promise<FileObject | undefined>;
  list(team: string, query: FileListQuery): Promise<Page<FileObject>>;
  /** Returns whether the team had the file. */
  delete(team: string, fileId: string): Promise<boolean>;
}

export class DynamoFileStore implements FileStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async put(team: string, file: FileObject): Promise<void> {
    await this.client.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { ...keys.file(team, file.id), entity: 'file', ...file },
      }),
    );
  }

  async get(team: string, fileId: string): Promise<FileObject | undefined> {
    const output = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: keys.file(team, fileId), ConsistentRead: true }),
    );
    return output.Item ? parseItem(fileObjectSchema, output.Item) : undefined;
  }

  async list(team: string, query: FileListQuery): Promise<Page<FileObject>> {
    const result = await queryPage<Record<string, unknown>>(
      this.client,
      {
        TableName: this.tableName,
        KeyConditionExpression: 'PK = :pk AND begins_with(SK, :prefix)',
        ExpressionAttributeValues: {
          ':pk': keys.file(team, '').PK,
          ':prefix': 'FILE#',
          ...(query.purpose ? { ':purpose': query.purpose } : {}),
        },
        ...(query.purpose ? { FilterExpression: 'purpose = :purpose' } : {}),
        ScanIndexForward: query.order === 'asc',
        ...(query.after ? { ExclusiveStartKey: keys.file(team, query.after) } : {}),
      },
      query.limit,
    );
    return { items: result.items.map((item) => parseItem(fileObjectSchema, item)), hasMore: result.hasMore };
  }

  async delete(team: string, fileId: string): Promise<boolean> {
    const output = await this.client.send(
      new DeleteCommand({ TableName: this.tableName, Key: keys.file(team, fileId), ReturnValues: 'ALL_OLD' }),
    );
    return output.Attributes !== undefined;
  }
}

import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  type QueryCommandInput,
} from '@aws-sdk/lib-dynamodb';
import {
  type BaseModel,
  baseModelSchema,
  type FineTunedModel,
  fineTunedModelSchema,
} from '../../core/schemas';
import { isConditionalCheckFailure } from './query';
import { parseItem } from './records';
import { GSI1, keys } from './table';

export interface ModelStore {
  /** Registers the base model; false when the id is taken. */
  putBase(model: BaseModel): Promise<boolean>;
  getBase(id: string): Promise<BaseModel | undefined>;
  /** Every registered base model, ordered by id. */
  listBase(): Promise<BaseModel[]>;
  /** Writing the same record again is harmless: a job's success may be handled more than once. */
  putFineTuned(model: FineTunedModel): Promise<void>;
  getFineTuned(team: string, name: string): Promise<FineTunedModel | undefined>;
  /** Every fine-tuned model of the team, ordered by name. */
  listFineTuned(team: string): Promise<FineTunedModel[]>;
  /** Returns whether the team had the model. */
  deleteFineTuned(team: string, name: string): Promise<boolean>;
}

export class DynamoModelStore implements ModelStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async putBase(model: BaseModel): Promise<boolean> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            ...keys.baseModel(model.id),
            ...keys.baseModelIndex(model.id),
            entity: 'base_model',
            ...model,
          },
          ConditionExpression: 'attribute_not_exists(PK)',
        }),
      );
      return true;
    } catch (error) {
      if (isConditionalCheckFailure(error)) return false;
      throw error;
    }
  }

  async getBase(id: string): Promise<BaseModel | undefined> {
    const output = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: keys.baseModel(id), ConsistentRead: true }),
    );
    return output.Item ? parseItem(baseModelSchema, output.Item) : undefined;
  }

  async listBase(): Promise<BaseModel[]> {
    const items = await this.queryAll({
      TableName: this.tableName,
      IndexName: GSI1,
      KeyConditionExpression: 'GSI1PK = :pk',
      ExpressionAttributeValues: { ':pk': keys.baseModelIndex('').GSI1PK },
    });
    return items.map((item) => parseItem(baseModelSchema, item));
  }

  async putFineTuned(model: FineTunedModel): Promise<void> {
    await this.client.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { ...keys.fineTunedModel(model.team, model.id), entity: 'fine_tuned_model', ...model },
      }),
    );
  }

  async getFineTuned(team: string, name: string): Promise<FineTunedModel | undefined> {
    const output = await this.client.send(
      new GetCommand({
        TableName: this.tableName,
        Key: keys.fineTunedModel(team, name),
        ConsistentRead: true,
      }),
    );
    return output.Item ? parseItem(fineTunedModelSchema, output.Item) : undefined;
  }

  async listFineTuned(team: string): Promise<FineTunedModel[]> {
    const items = await this.queryAll({
      TableName: this.tableName,
      KeyConditionExpression: 'PK = :pk AND begins_with(SK, :prefix)',
      ExpressionAttributeValues: { ':pk': keys.fineTunedModel(team, '').PK, ':prefix': 'FTMODEL#' },
      ConsistentRead: true,
    });
    return items.map((item) => parseItem(fineTunedModelSchema, item));
  }

  async deleteFineTuned(team: string, name: string): Promise<boolean> {
    const output = await this.client.send(
      new DeleteCommand({
        TableName: this.tableName,
        Key: keys.fineTunedModel(team, name),
        ReturnValues: 'ALL_OLD',
      }),
    );
    return output.Attributes !== undefined;
  }

  /** Follows DynamoDB's 1 MB pages to the end; model lists are short enough to answer whole. */
  private async queryAll(input: QueryCommandInput): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    let exclusiveStartKey: QueryCommandInput['ExclusiveStartKey'];
    do {
      const output = await this.client.send(
        new QueryCommand({ ...input, ExclusiveStartKey: exclusiveStartKey }),
      );
      items.push(...((output.Items ?? []) as Record<string, unknown>[]));
      exclusiveStartKey = output.LastEvaluatedKey;
    } while (exclusiveStartKey);
    return items;
  }
}

import { type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { ConflictError } from '../../core/errors';
import { type Team, teamSchema } from '../../core/schemas';
import { isConditionalCheckFailure, type Page, queryPage } from './query';
import { parseItem } from './records';
import { GSI1, keys } from './table';

export interface TeamStore {
  /** Creates the team; a team with the same id is a `ConflictError`. */
  create(team: Team): Promise<void>;
  get(teamId: string): Promise<Team | undefined>;
  list(page: { readonly after?: string; readonly limit: number }): Promise<Page<Team>>;
}

export class DynamoTeamStore implements TeamStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async create(team: Team): Promise<void> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...keys.team(team.id), ...keys.teamIndex(team.id), entity: 'team', ...team },
          ConditionExpression: 'attribute_not_exists(PK)',
        }),
      );
    } catch (error) {
      if (isConditionalCheckFailure(error)) {
        throw new ConflictError(`Team ${team.id} already exists.`, {
          param: 'id',
          code: 'team_exists',
          cause: error,
        });
      }
      throw error;
    }
  }

  async get(teamId: string): Promise<Team | undefined> {
    const output = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: keys.team(teamId), ConsistentRead: true }),
    );
    return output.Item ? parseItem(teamSchema, output.Item) : undefined;
  }

  async list(page: { readonly after?: string; readonly limit: number }): Promise<Page<Team>> {
    const result = await queryPage<Record<string, unknown>>(
      this.client,
      {
        TableName: this.tableName,
        IndexName: GSI1,
        KeyConditionExpression: 'GSI1PK = :pk',
        ExpressionAttributeValues: { ':pk': 'TEAMS' },
        ...(page.after
          ? { ExclusiveStartKey: { ...keys.team(page.after), ...keys.teamIndex(page.after) } }
          : {}),
      },
      page.limit,
    );
    return { items: result.items.map((item) => parseItem(teamSchema, item)), hasMore: result.hasMore };
  }
}

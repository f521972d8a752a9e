import { DeleteCommand, type DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { type JobCheckpoint, type JobEvent, jobCheckpointSchema, jobEventSchema } from '../../core/schemas';
import { type Page, queryPage } from './query';
import { parseItem } from './records';
import { keys } from './table';

export interface JobPageQuery {
  readonly after?: string;
  readonly limit: number;
}

/** A job's events: written by the control plane and the trainer, listed newest first. */
export interface JobEventStore {
  append(team: string, jobId: string, event: JobEvent): Promise<void>;
  list(team: string, jobId: string, query: JobPageQuery): Promise<Page<JobEvent>>;
}

/** A job's checkpoints, one record per checkpoint the trainer saved, listed newest first. */
export interface CheckpointStore {
  put(team: string, checkpoint: JobCheckpoint): Promise<void>;
  list(team: string, jobId: string, query: JobPageQuery): Promise<Page<JobCheckpoint>>;
}

export class DynamoJobEventStore implements JobEventStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async append(team: string, jobId: string, event: JobEvent): Promise<void> {
    await this.client.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { ...keys.jobEvent(team, jobId, event.id), entity: 'job_event', ...event },
        ConditionExpression: 'attribute_not_exists(PK)',
      }),
    );
  }

  async list(team: string, jobId: string, query: JobPageQuery): Promise<Page<JobEvent>> {
    return listChildren(this.client, this.tableName, keys.jobEvent(team, jobId, ''), query, jobEventSchema);
  }
}

export class DynamoCheckpointStore implements CheckpointStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async put(team: string, checkpoint: JobCheckpoint): Promise<void> {
    await this.client.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          ...keys.checkpoint(team, checkpoint.fine_tuning_job_id, checkpoint.id),
          entity: 'checkpoint',
          ...checkpoint,
        },
      }),
    );
  }

  async list(team: string, jobId: string, query: JobPageQuery): Promise<Page<JobCheckpoint>> {
    return listChildren(
      this.client,
      this.tableName,
      keys.checkpoint(team, jobId, ''),
      query,
      jobCheckpointSchema,
    );
  }

  /** Removes one record, as the trainer does for checkpoints it deleted; a missing one is no error. */
  async delete(team: string, jobId: string, checkpointId: string): Promise<void> {
    await this.client.send(
      new DeleteCommand({ TableName: this.tableName, Key: keys.checkpoint(team, jobId, checkpointId) }),
    );
  }
}

async function listChildren<T extends typeof jobEventSchema | typeof jobCheckpointSchema>(
  client: DynamoDBDocumentClient,
  tableName: string,
  prefix: { readonly PK: string; readonly SK: string },
  query: JobPageQuery,
  schema: T,
): Promise<Page<ReturnType<T['parse']>>> {
  const result = await queryPage<Record<string, unknown>>(
    client,
    {
      TableName: tableName,
      KeyConditionExpression: 'PK = :pk AND begins_with(SK, :prefix)',
      ExpressionAttributeValues: { ':pk': prefix.PK, ':prefix': prefix.SK },
      ScanIndexForward: false,
      ...(query.after ? { ExclusiveStartKey: { PK: prefix.PK, SK: `${prefix.SK}${query.after}` } } : {}),
    },
    query.limit,
  );
  return {
    items: result.items.map((item) => parseItem(schema, item) as ReturnType<T['parse']>),
    hasMore: result.hasMore,
  };
}

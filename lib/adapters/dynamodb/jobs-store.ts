import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
} from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import {
  fineTuningJobSchema,
  jobExtensionSchema,
  jobLaunchSchema,
  SUPPORTED_ARCHITECTURES,
} from '../../core/schemas';
import { isConditionalCheckFailure, type Page, queryPage } from './query';
import { parseItem } from './records';
import { GSI1, keys } from './table';

/** A job as stored: the public object (with its `whetstone` extension) and the control plane's bookkeeping. */
export const storedJobSchema = z.object({
  team: z.string(),
  /** Bumped by every write; each write is conditional on the version it was decided from. */
  version: z.number().int().min(1),
  launch: jobLaunchSchema,
  /** The registered base model at the root, and the name the fine-tuned model takes on success. */
  model: z.object({
    base: z.string(),
    architecture: z.enum(SUPPORTED_ARCHITECTURES),
    suffix: z.string().nullable(),
    fine_tuned_name: z.string(),
  }),
  job: fineTuningJobSchema.extend({ whetstone: jobExtensionSchema }),
});
export type StoredJob = z.infer<typeof storedJobSchema>;

export interface JobListQuery {
  readonly after?: string;
  readonly limit: number;
  /** Every pair must match the job's metadata. */
  readonly metadata?: Readonly<Record<string, string>>;
}

/** How a write that also moves the team's running-job count ended. */
export type SlotWriteResult = 'written' | 'changed' | 'full';

export interface JobStore {
  /** Writes a new job at version 1; false when the id exists. */
  create(job: StoredJob): Promise<boolean>;
  get(team: string, jobId: string): Promise<StoredJob | undefined>;
  list(team: string, query: JobListQuery): Promise<Page<StoredJob['job']>>;
  /**
   * Replaces the job if it is still at `next.version - 1`; false when another write came first.
   * `slot` also takes (`acquire`, refused as `full` at `limit`) or gives back (`release`) one of
   * the team's running-job slots, in the same transaction.
   */
  replace(
    next: StoredJob,
    slot?: { readonly change: 'acquire' | 'release'; readonly limit: number },
  ): Promise<SlotWriteResult>;
  /** The team's jobs waiting for a running-job slot, oldest first. */
  waiting(team: string, limit: number): Promise<string[]>;
  /** Jobs of the team holding a running-job slot. */
  slotsInUse(team: string): Promise<number>;
}

/** Why a transaction may be cancelled and still be worth deciding again; anything else is a bug. */
const RETRYABLE_CANCELLATIONS = ['None', 'ConditionalCheckFailed', 'TransactionConflict', 'ThrottlingError'];

function isTransactionConflict(error: unknown): boolean {
  return error instanceof Error && error.name === 'TransactionConflictException';
}

export class DynamoJobStore implements JobStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async create(job: StoredJob): Promise<boolean> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: this.item({ ...job, version: 1 }),
          ConditionExpression: 'attribute_not_exists(PK)',
        }),
      );
      return true;
    } catch (error) {
      if (isConditionalCheckFailure(error)) return false;
      throw error;
    }
  }

  async get(team: string, jobId: string): Promise<StoredJob | undefined> {
    const output = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: keys.job(team, jobId), ConsistentRead: true }),
    );
    return output.Item ? parseItem(storedJobSchema, output.Item) : undefined;
  }

  async list(team: string, query: JobListQuery): Promise<Page<StoredJob['job']>> {
    const pairs = Object.entries(query.metadata ?? {});
    const result = await queryPage<Record<string, unknown>>(
      this.client,
      {
        TableName: this.tableName,
        KeyConditionExpression: 'PK = :pk AND begins_with(SK, :prefix)',
        ExpressionAttributeValues: {
          ':pk': keys.job(team, '').PK,
          ':prefix': 'JOB#',
          ...Object.fromEntries(pairs.map(([, value], index) => [`:m${index}`, value])),
        },
        ...(pairs.length > 0
          ? {
              FilterExpression: pairs
                .map((_, index) => `#job.#metadata.#m${index} = :m${index}`)
                .join(' AND '),
              ExpressionAttributeNames: {
                '#job': 'job',
                '#metadata': 'metadata',
                ...Object.fromEntries(pairs.map(([key], index) => [`#m${index}`, key])),
              },
            }
          : {}),
        ScanIndexForward: false,
        ...(query.after ? { ExclusiveStartKey: keys.job(team, query.after) } : {}),
      },
      query.limit,
    );
    return {
      items: result.items.map((item) => parseItem(storedJobSchema, item).job),
      hasMore: result.hasMore,
    };
  }

  async replace(
    next: StoredJob,
    slot?: { readonly change: 'acquire' | 'release'; readonly limit: number },
  ): Promise<SlotWriteResult> {
    const put = {
      TableName: this.tableName,
      Item: this.item(next),
      ConditionExpression: 'version = :expected',
      ExpressionAttributeValues: { ':expected': next.version - 1 },
    };
    if (!slot) {
      try {
        await this.client.send(new PutCommand(put));
        return 'written';
      } catch (error) {
        // A transaction moving the same job at that moment (a slot change) is a lost race too.
        if (isConditionalCheckFailure(error) || isTransactionConflict(error)) return 'changed';
        throw error;
      }
    }
    const counter =
      slot.change === 'acquire'
        ? {
            UpdateExpression: 'SET in_use = if_not_exists(in_use, :zero) + :one',
            ConditionExpression: 'attribute_not_exists(in_use) OR in_use < :limit',
            ExpressionAttributeValues: { ':zero': 0, ':one': 1, ':limit': slot.limit },
          }
        : {
            UpdateExpression: 'SET in_use = in_use - :one',
            ConditionExpression: 'in_use >= :one',
            ExpressionAttributeValues: { ':one': 1 },
          };
    try {
      await this.client.send(
        new TransactWriteCommand({
          TransactItems: [
            { Put: put },
            { Update: { TableName: this.tableName, Key: keys.jobSlots(next.team), ...counter } },
          ],
        }),
      );
      return 'written';
    } catch (error) {
      if (!(error instanceof Error) || error.name !== 'TransactionCanceledException') throw error;
      // Reasons come in TransactItems order: the job first, then the counter. Any other reason
      // (another transaction on the team's counter at that moment) is worth a fresh try.
      const reasons = (error as { CancellationReasons?: { Code?: string }[] }).CancellationReasons ?? [];
      const codes = reasons.map((reason) => reason.Code ?? 'None');
      if (codes.some((code) => !RETRYABLE_CANCELLATIONS.includes(code))) throw error;
      if (codes[0] === 'ConditionalCheckFailed') return 'changed';
      if (codes[1] !== 'ConditionalCheckFailed') return 'changed';
      // A count already at zero must not block the job's own write.
      if (slot.change === 'release') return this.replace(next);
      return 'full';
    }
  }

  async waiting(team: string, limit: number): Promise<string[]> {
    const output = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: GSI1,
        KeyConditionExpression: 'GSI1PK = :pk',
        ExpressionAttributeValues: { ':pk': keys.jobWaitingIndex(team, '').GSI1PK },
        ScanIndexForward: true,
        Limit: limit,
      }),
    );
    return (output.Items ?? []).map((item) => String(item.GSI1SK));
  }

  async slotsInUse(team: string): Promise<number> {
    const output = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: keys.jobSlots(team), ConsistentRead: true }),
    );
    return Number(output.Item?.in_use ?? 0);
  }

  private item(job: StoredJob): Record<string, unknown> {
    return {
      ...keys.job(job.team, job.job.id),
      ...(job.launch.state === 'waiting' ? keys.jobWaitingIndex(job.team, job.job.id) : {}),
      entity: 'job',
      ...job,
    };
  }
}

import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { FileObject, UploadObject } from '../../core/schemas';
import { isConditionalCheckFailure, isTransactionConditionFailure, queryPage } from './query';
import { fromItem } from './records';
import { keys, TTL_ATTRIBUTE } from './table';

/**
 * `completing` is internal: one request has claimed the upload and is assembling its object, so
 * a concurrent complete or cancel is refused. It reads as `pending` through the API.
 */
export type StoredUploadStatus = UploadObject['status'] | 'completing';

export interface StoredUpload extends Omit<UploadObject, 'status' | 'file'> {
  readonly status: StoredUploadStatus;
  readonly mime_type: string;
  /** The file the upload becomes; its id is fixed at create so the S3 key is too. */
  readonly file_id: string;
  readonly s3_upload_id: string;
  /** `direct` parts arrive through the API; `presigned` parts go straight to S3. */
  readonly mode: 'direct' | 'presigned';
  readonly part_count: number;
  /** While `completing`: until when the completing request holds the upload (epoch seconds). */
  readonly completing_until?: number;
}

export interface StoredUploadPart {
  readonly id: string;
  readonly part_number: number;
  readonly etag: string;
  readonly bytes: number;
  readonly created_at: number;
}

export interface UploadStore {
  create(team: string, upload: StoredUpload): Promise<void>;
  get(team: string, uploadId: string): Promise<StoredUpload | undefined>;
  /**
   * Takes the next S3 part number while the upload is pending, unexpired and below `maxParts`;
   * undefined when it is not.
   */
  reservePartNumber(
    team: string,
    uploadId: string,
    now: number,
    maxParts: number,
  ): Promise<number | undefined>;
  /** Records a part while the upload is still pending; false when it no longer is. */
  putPart(team: string, uploadId: string, part: StoredUploadPart): Promise<boolean>;
  listParts(team: string, uploadId: string): Promise<StoredUploadPart[]>;
  /** Moves the upload from one status to another; false when it was not in `from`. */
  transition(
    team: string,
    uploadId: string,
    from: StoredUploadStatus,
    to: StoredUploadStatus,
  ): Promise<boolean>;
  /** Claims a pending upload for one completing request, until `leaseUntil`; false when not pending. */
  claimCompletion(team: string, uploadId: string, leaseUntil: number): Promise<boolean>;
  /** Ends the lease of a completion that cannot tell how it ended, so the upload can be cancelled now. */
  endCompletionLease(team: string, uploadId: string): Promise<boolean>;
  /** Cancels an upload whose completing request outlived its lease (it died); false otherwise. */
  abandonCompletion(team: string, uploadId: string, now: number): Promise<boolean>;
  /** Records the finished file and marks the upload completed, in one transaction. */
  complete(team: string, uploadId: string, file: FileObject): Promise<void>;
}

export class DynamoUploadStore implements UploadStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async create(team: string, upload: StoredUpload): Promise<void> {
    await this.client.send(
      new PutCommand({
        TableName: this.tableName,
        // Abandoned uploads age out a day after they expire; the S3 lifecycle rule aborts their parts.
        Item: {
          ...keys.upload(team, upload.id),
          entity: 'upload',
          ...upload,
          [TTL_ATTRIBUTE]: upload.expires_at + 86_400,
        },
        ConditionExpression: 'attribute_not_exists(PK)',
      }),
    );
  }

  async get(team: string, uploadId: string): Promise<StoredUpload | undefined> {
    const output = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: keys.upload(team, uploadId), ConsistentRead: true }),
    );
    return output.Item ? fromItem<StoredUpload>(output.Item) : undefined;
  }

  async reservePartNumber(
    team: string,
    uploadId: string,
    now: number,
    maxParts: number,
  ): Promise<number | undefined> {
    try {
      const output = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.upload(team, uploadId),
          UpdateExpression: 'SET part_count = part_count + :one',
          ConditionExpression: '#status = :pending AND expires_at > :now AND part_count < :max',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':one': 1, ':pending': 'pending', ':now': now, ':max': maxParts },
          ReturnValues: 'UPDATED_NEW',
        }),
      );
      return output.Attributes?.part_count as number;
    } catch (error) {
      if (isConditionalCheckFailure(error)) return undefined;
      throw error;
    }
  }

  async putPart(team: string, uploadId: string, part: StoredUploadPart): Promise<boolean> {
    try {
      await this.client.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              ConditionCheck: {
                TableName: this.tableName,
                Key: keys.upload(team, uploadId),
                ConditionExpression: '#status = :pending',
                ExpressionAttributeNames: { '#status': 'status' },
                ExpressionAttributeValues: { ':pending': 'pending' },
              },
            },
            {
              Put: {
                TableName: this.tableName,
                Item: {
                  ...keys.uploadPart(team, uploadId, part.part_number),
                  entity: 'upload_part',
                  ...part,
                },
              },
            },
          ],
        }),
      );
      return true;
    } catch (error) {
      if (isTransactionConditionFailure(error)) return false;
      throw error;
    }
  }

  async listParts(team: string, uploadId: string): Promise<StoredUploadPart[]> {
    const prefix = keys.uploadPart(team, uploadId, 0).SK.replace(/\d+$/, '');
    const page = await queryPage<Record<string, unknown>>(
      this.client,
      {
        TableName: this.tableName,
        KeyConditionExpression: 'PK = :pk AND begins_with(SK, :prefix)',
        ExpressionAttributeValues: { ':pk': keys.upload(team, uploadId).PK, ':prefix': prefix },
        ConsistentRead: true,
      },
      10_000,
    );
    return page.items.map((item) => fromItem<StoredUploadPart>(item));
  }

  async transition(
    team: string,
    uploadId: string,
    from: StoredUploadStatus,
    to: StoredUploadStatus,
  ): Promise<boolean> {
    return this.conditionalUpdate(team, uploadId, {
      UpdateExpression: 'SET #status = :to',
      ConditionExpression: '#status = :from',
      ExpressionAttributeValues: { ':from': from, ':to': to },
    });
  }

  async claimCompletion(team: string, uploadId: string, leaseUntil: number): Promise<boolean> {
    return this.conditionalUpdate(team, uploadId, {
      UpdateExpression: 'SET #status = :completing, completing_until = :lease',
      ConditionExpression: '#status = :pending',
      ExpressionAttributeValues: { ':completing': 'completing', ':lease': leaseUntil, ':pending': 'pending' },
    });
  }

  async endCompletionLease(team: string, uploadId: string): Promise<boolean> {
    return this.conditionalUpdate(team, uploadId, {
      UpdateExpression: 'SET completing_until = :ended',
      ConditionExpression: '#status = :completing',
      ExpressionAttributeValues: { ':ended': 0, ':completing': 'completing' },
    });
  }

  async abandonCompletion(team: string, uploadId: string, now: number): Promise<boolean> {
    return this.conditionalUpdate(team, uploadId, {
      UpdateExpression: 'SET #status = :cancelled',
      // Records left completing before leases existed have none, and count as lapsed.
      ConditionExpression:
        '#status = :completing AND (attribute_not_exists(completing_until) OR completing_until < :now)',
      ExpressionAttributeValues: { ':cancelled': 'cancelled', ':completing': 'completing', ':now': now },
    });
  }

  private async conditionalUpdate(
    team: string,
    uploadId: string,
    update: {
      UpdateExpression: string;
      ConditionExpression: string;
      ExpressionAttributeValues: Record<string, unknown>;
    },
  ): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.upload(team, uploadId),
          ExpressionAttributeNames: { '#status': 'status' },
          ...update,
        }),
      );
      return true;
    } catch (error) {
      if (isConditionalCheckFailure(error)) return false;
      throw error;
    }
  }

  async complete(team: string, uploadId: string, file: FileObject): Promise<void> {
    await this.client.send(
      new TransactWriteCommand({
        TransactItems: [
          {
            Update: {
              TableName: this.tableName,
              Key: keys.upload(team, uploadId),
              UpdateExpression: 'SET #status = :completed REMOVE #ttl',
              ConditionExpression: '#status = :completing',
              ExpressionAttributeNames: { '#status': 'status', '#ttl': TTL_ATTRIBUTE },
              ExpressionAttributeValues: { ':completed': 'completed', ':completing': 'completing' },
            },
          },
          {
            Put: {
              TableName: this.tableName,
              Item: { ...keys.file(team, file.id), entity: 'file', ...file },
            },
          },
        ],
      }),
    );
  }
}

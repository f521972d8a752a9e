import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateTableCommand,
  DescribeTimeToLiveCommand,
  DynamoDBClient,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TTL_ATTRIBUTE, tableDefinition } from '../../lib/adapters';
import { type RunningService, startDynamoDbLocal } from '../../lib/local/services/dynamodb-local';
import { startOnFreePort } from '../../lib/local/services/ports';
import { ensureTable } from '../../lib/local/table';

describe('ensureTable', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'whetstone-table-'));
  let dynamodb: RunningService;
  let client: DynamoDBClient;

  beforeAll(async () => {
    // What startPlatform sets before it calls ensureTable; DynamoDB Local accepts any credentials.
    Object.assign(process.env, {
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
    });
    dynamodb = await startOnFreePort((port) => startDynamoDbLocal({ dataDir, port }));
    client = new DynamoDBClient({ endpoint: dynamodb.endpoint });
  });
  afterAll(async () => {
    client?.destroy();
    await dynamodb?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const timeToLive = async (tableName: string) =>
    (await client.send(new DescribeTimeToLiveCommand({ TableName: tableName }))).TimeToLiveDescription;

  it('creates the table with TTL on, and finds it on the next start', async () => {
    // Act
    const first = await ensureTable(dynamodb.endpoint, 'fresh');
    const second = await ensureTable(dynamodb.endpoint, 'fresh');

    // Assess
    expect([first, second]).toEqual(['created', 'existing']);
    expect(await timeToLive('fresh')).toEqual({ AttributeName: TTL_ATTRIBUTE, TimeToLiveStatus: 'ENABLED' });
  });

  it('turns TTL on for a table that a start left without it', async () => {
    // Prepare: the table as a start that died right after CreateTable left it
    await client.send(new CreateTableCommand(tableDefinition('half-made')));
    await waitUntilTableExists({ client, maxWaitTime: 30 }, { TableName: 'half-made' });
    const before = await timeToLive('half-made');

    // Act
    const outcome = await ensureTable(dynamodb.endpoint, 'half-made');

    // Assess
    expect(before).toEqual({ TimeToLiveStatus: 'DISABLED' });
    expect(outcome).toBe('existing');
    expect(await timeToLive('half-made')).toEqual({
      AttributeName: TTL_ATTRIBUTE,
      TimeToLiveStatus: 'ENABLED',
    });
  });
});

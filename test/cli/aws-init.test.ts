import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateTableCommand, DynamoDBClient, waitUntilTableExists } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authenticate } from '../../lambdas/authorizer/authenticate';
import {
  createDocumentClient,
  DynamoApiKeyStore,
  DynamoAuditStore,
  DynamoTeamStore,
} from '../../lib/adapters';
import {
  AUDIT_REQUEST_ID,
  type AwsInitOptions,
  initAwsDeployment,
  OWNER_KEY_NAME,
} from '../../lib/cli/aws-init';
import { type RunningService, startDynamoDbLocal } from '../../lib/local/services/dynamodb-local';
import { startOnFreePort } from '../../lib/local/services/ports';
import { ensureTable } from '../../lib/local/table';
import { isolatedEnv, whet } from './whet';

const REGION = 'eu-west-1';

describe('whet aws init', { timeout: 60_000 }, () => {
  const scratch = mkdtempSync(join(tmpdir(), 'whetstone-aws-init-'));
  let dynamodb: RunningService;
  let documentClient: ReturnType<typeof createDocumentClient>;
  let tables = 0;

  /** A fresh deployed table per test, so each starts from what `cdk deploy` leaves. */
  const deployedTable = async () => {
    const table = `whetstone-${++tables}`;
    await ensureTable(dynamodb.endpoint, table);
    return table;
  };
  const init = (table: string, options: Partial<AwsInitOptions> = {}, now?: number) =>
    initAwsDeployment({ table, region: REGION, force: false, endpoint: dynamodb.endpoint, ...options }, now);
  const storesOf = (table: string) => ({
    teams: new DynamoTeamStore(documentClient, table),
    apiKeys: new DynamoApiKeyStore(documentClient, table),
    audit: new DynamoAuditStore(documentClient, table),
  });
  /** The message a call failed with, awaited in Act so that Assess reads plain values. */
  const failure = (promise: Promise<unknown>) =>
    promise.then(
      () => 'no failure',
      (error: unknown) => (error instanceof Error ? error.message : String(error)),
    );
  /** The CLI in its own process, as an operator runs it, with credentials that only DynamoDB Local takes. */
  const cli = (args: readonly string[], env: Record<string, string> = {}) =>
    whet(['aws', 'init', ...args], {
      ...isolatedEnv(scratch),
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_ENDPOINT_URL_DYNAMODB: dynamodb.endpoint,
      // The SDK's notice that its 2027 releases need Node 22 is not this command's output.
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      ...env,
    });

  beforeAll(async () => {
    // DynamoDB Local takes any credentials; these keep any of the machine's own out of the calls.
    Object.assign(process.env, {
      AWS_REGION: REGION,
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      AWS_EC2_METADATA_DISABLED: 'true',
    });
    delete process.env.AWS_PROFILE;
    delete process.env.AWS_SESSION_TOKEN;
    dynamodb = await startOnFreePort((port) =>
      startDynamoDbLocal({ dataDir: join(scratch, 'dynamodb'), port }),
    );
    documentClient = createDocumentClient({ endpoint: dynamodb.endpoint, region: REGION });
  });
  afterAll(async () => {
    documentClient?.destroy();
    await dynamodb?.stop();
    rmSync(scratch, { recursive: true, force: true });
  });

  it("makes team 'default' and an owner key that the authorizer accepts, and records both in the audit trail", async () => {
    // Prepare
    const table = await deployedTable();
    const stores = storesOf(table);
    const now = Date.now();

    // Act
    const result = await init(table, {}, now);

    // Assess
    expect(result).toMatchObject({ table, region: REGION, createdTeam: true, hadLiveOwnerKey: false });
    expect(result.auditError).toBeUndefined();
    expect(result.key).toMatchObject({
      team: 'default',
      role: 'owner',
      name: OWNER_KEY_NAME,
      created_by: null,
    });
    const authentication = await authenticate(
      stores.apiKeys,
      `Bearer ${result.key.value}`,
      Math.floor(now / 1000),
    );
    expect(authentication).toEqual({
      ok: true,
      principal: { keyId: result.key.id, team: 'default', role: 'owner' },
    });
    expect(await stores.teams.get('default')).toMatchObject({ id: 'default', name: 'Default team' });
    const trail = await stores.audit.list({ team: 'default', limit: 10 });
    expect(
      trail.items.map(({ action, resource_id, actor_key_id, actor_role, request_id }) => ({
        action,
        resource_id,
        actor_key_id,
        actor_role,
        request_id,
      })),
    ).toEqual([
      {
        action: 'keys.create',
        resource_id: result.key.id,
        actor_key_id: result.key.id,
        actor_role: 'owner',
        request_id: AUDIT_REQUEST_ID,
      },
      {
        action: 'teams.create',
        resource_id: 'default',
        actor_key_id: result.key.id,
        actor_role: 'owner',
        request_id: AUDIT_REQUEST_ID,
      },
    ]);
  });

  it('refuses a second key while one is live, makes another with force, and makes the team once', async () => {
    // Prepare
    const table = await deployedTable();
    const stores = storesOf(table);
    const first = await init(table);
    const teamBefore = await stores.teams.get('default');

    // Act
    const refused = await failure(init(table));
    const forced = await init(table, { force: true });

    // Assess
    expect(refused).toBe(
      `Team 'default' in table ${table} (${REGION}) already has a live owner key. ` +
        'Use that one, or pass --force to make another (and revoke the old one with `whet keys revoke`).',
    );
    expect(forced).toMatchObject({ createdTeam: false, hadLiveOwnerKey: true });
    expect(forced.key.id).not.toBe(first.key.id);
    const keys = await stores.apiKeys.listByTeam('default', { limit: 10 });
    expect(keys.items.map((key) => key.id).sort()).toEqual([first.key.id, forced.key.id].sort());
    const teams = await stores.teams.list({ limit: 10 });
    expect(teams.items).toEqual([teamBefore]);
    const now = Math.floor(Date.now() / 1000);
    for (const key of [first.key, forced.key]) {
      expect(await authenticate(stores.apiKeys, `Bearer ${key.value}`, now)).toMatchObject({ ok: true });
    }
    const trail = await stores.audit.list({ team: 'default', limit: 10 });
    expect(trail.items.map((record) => record.action)).toEqual([
      'keys.create',
      'keys.create',
      'teams.create',
    ]);
  });

  it("makes a key without force once team 'default' has no live owner key left", async () => {
    // Prepare: the only owner key revoked, as after a leaked key was withdrawn
    const table = await deployedTable();
    const stores = storesOf(table);
    const first = await init(table);
    await stores.apiKeys.revoke('default', first.key.id, Math.floor(Date.now() / 1000));

    // Act
    const second = await init(table);

    // Assess
    expect(second).toMatchObject({ createdTeam: false, hadLiveOwnerKey: false });
    const now = Math.floor(Date.now() / 1000);
    expect(await authenticate(stores.apiKeys, `Bearer ${second.key.value}`, now)).toMatchObject({ ok: true });
    expect(await authenticate(stores.apiKeys, `Bearer ${first.key.value}`, now)).toEqual({
      ok: false,
      reason: 'revoked',
    });
  });

  it('refuses a table that does not exist, one it cannot reach, and one that is not Whetstone’s', async () => {
    // Prepare
    const dynamodbClient = new DynamoDBClient({ endpoint: dynamodb.endpoint, region: REGION });
    await dynamodbClient.send(
      new CreateTableCommand({
        TableName: 'someone-else',
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      }),
    );
    await waitUntilTableExists({ client: dynamodbClient, maxWaitTime: 30 }, { TableName: 'someone-else' });
    dynamodbClient.destroy();

    // Act
    const missing = await failure(init('no-such-table'));
    // Port 1 on the loopback refuses at once; the SDK's retries still end in a few hundred ms.
    const unreachable = await failure(init('whetstone', { endpoint: 'http://127.0.0.1:1' }));
    const foreign = await failure(init('someone-else'));

    // Assess
    expect(missing).toBe(
      `Table no-such-table does not exist in ${REGION}. Deploy the platform first (npx cdk deploy --all), ` +
        "or name the deployment's table (its deploymentName) with --table and its region with --region.",
    );
    expect(unreachable).toMatch(new RegExp(`^Cannot reach table whetstone in ${REGION}: .*ECONNREFUSED`));
    expect(foreign).toBe(
      `Table someone-else in ${REGION} is not a Whetstone table (no PK/SK key with index GSI1); ` +
        "name the deployment's table with --table.",
    );
  });

  it('prints the key once with how to use it, refuses a second run with exit code 1 unless --force', async () => {
    // Prepare
    const table = await deployedTable();

    // Act
    const first = await cli(['--table', table, '--region', REGION]);
    const second = await cli(['--table', table, '--region', REGION]);
    const forced = await cli(['--table', table, '--region', REGION, '--force', '--json']);
    const noRegion = await cli(['--table', table]);
    const noTable = await cli([], { AWS_REGION: REGION });

    // Assess
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    const value = /^ {2}(whet_\S+)$/m.exec(first.stdout)?.[1] ?? '';
    const keyId = `key_${value.split('_')[1]}`;
    expect(first.stdout).toBe(
      [
        `Created team 'default' and its owner key ${keyId} in table ${table} (${REGION}).`,
        'Its secret is shown only now; store it somewhere safe:',
        '',
        `  ${value}`,
        '',
        'Use it with ApiUrl, the API URL that `cdk deploy` printed:',
        '  OPENAI_API_KEY=<key> OPENAI_BASE_URL=<ApiUrl>/v1   (OpenAI SDKs)',
        '  whet login --url <ApiUrl> --api-key <key>          (this CLI)',
        '',
      ].join('\n'),
    );
    expect(
      await authenticate(storesOf(table).apiKeys, `Bearer ${value}`, Math.floor(Date.now() / 1000)),
    ).toMatchObject({ ok: true, principal: { team: 'default', role: 'owner' } });
    expect(second).toEqual({
      code: 1,
      stdout: '',
      stderr:
        `error: Team 'default' in table ${table} (${REGION}) already has a live owner key. ` +
        'Use that one, or pass --force to make another (and revoke the old one with `whet keys revoke`).\n',
    });
    expect(forced).toMatchObject({ code: 0, stderr: '' });
    expect(JSON.parse(forced.stdout)).toMatchObject({
      table,
      region: REGION,
      team: 'default',
      created_team: false,
      key: { team: 'default', role: 'owner', name: OWNER_KEY_NAME, created_by: null },
    });
    expect(noRegion).toEqual({
      code: 1,
      stdout: '',
      stderr:
        'error: No AWS region: pass --region, or set AWS_REGION or a region in your AWS profile ' +
        "(the deployment's controlRegion).\n",
    });
    expect(noTable).toEqual({
      code: 1,
      stdout: '',
      stderr:
        `error: Table whetstone does not exist in ${REGION}. Deploy the platform first (npx cdk deploy --all), ` +
        "or name the deployment's table (its deploymentName) with --table and its region with --region.\n",
    });
  });
});

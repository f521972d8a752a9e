import { DescribeTableCommand, type TableDescription } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import {
  type AuditStore,
  createDocumentClient,
  DynamoApiKeyStore,
  DynamoAuditStore,
  DynamoTeamStore,
  GSI1,
  tableDefinition,
} from '../adapters';
import { auditRecord } from '../core/auth';
import type { CreatedApiKey } from '../core/schemas';
import { DEFAULT_TEAM, ensureDefaultTeam, issueOwnerKey, liveOwnerKeyExists } from '../local/owner-key';
import { printJson } from './output';

export const OWNER_KEY_NAME = 'owner (whet aws init)';
/** What the audit trail shows as the request of the records this command writes. */
export const AUDIT_REQUEST_ID = 'whet aws init';

export interface AwsInitOptions {
  /** The deployment's table: its `deploymentName`. */
  readonly table: string;
  /** Default: the SDK's own (`AWS_REGION`, then the profile's region). */
  readonly region?: string;
  /** Make another owner key even when team `default` has a live one. */
  readonly force: boolean;
  /** Default: the SDK's own (`AWS_ENDPOINT_URL_DYNAMODB`, then the region's endpoint). */
  readonly endpoint?: string;
}

export interface AwsInitResult {
  readonly table: string;
  readonly region: string;
  readonly createdTeam: boolean;
  /** Whether team `default` already had a live owner key (so `force` was given). */
  readonly hadLiveOwnerKey: boolean;
  readonly key: CreatedApiKey;
  /** Why the audit trail lacks this run's records; the key exists and works either way. */
  readonly auditError: string | undefined;
}

/** A refusal or a deployment that cannot be reached: the message says which and what to do. */
export class AwsInitError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AwsInitError';
  }
}

/**
 * The first owner key of a deployed platform, made with the caller's AWS credentials straight in
 * its table (the API has no key yet to ask with): team `default` unless it exists, then an owner
 * key, as the local platform's first start makes them. One live owner key is enough, so another
 * takes `force`.
 */
export async function initAwsDeployment(options: AwsInitOptions, now = Date.now()): Promise<AwsInitResult> {
  const client = createDocumentClient({
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    ...(options.region ? { region: options.region } : {}),
  });
  try {
    const region = await resolvedRegion(client);
    await checkTable(client, options.table, region);
    const stores = {
      teams: new DynamoTeamStore(client, options.table),
      apiKeys: new DynamoApiKeyStore(client, options.table),
    };
    const createdTeam = await ensureDefaultTeam(stores.teams, now);
    const hadLiveOwnerKey = await liveOwnerKeyExists(stores.apiKeys, Math.floor(now / 1000));
    if (hadLiveOwnerKey && !options.force) {
      throw new AwsInitError(
        `Team '${DEFAULT_TEAM}' in table ${options.table} (${region}) already has a live owner key. ` +
          'Use that one, or pass --force to make another (and revoke the old one with `whet keys revoke`).',
      );
    }
    const key = await issueOwnerKey(stores, OWNER_KEY_NAME, now);
    const auditError = await recordAudit(new DynamoAuditStore(client, options.table), key, createdTeam, now);
    return {
      table: options.table,
      region,
      createdTeam,
      hadLiveOwnerKey,
      key,
      auditError,
    };
  } finally {
    client.destroy();
  }
}

async function resolvedRegion(client: DynamoDBDocumentClient): Promise<string> {
  try {
    return await client.config.region();
  } catch (error) {
    throw new AwsInitError(
      'No AWS region: pass --region, or set AWS_REGION or a region in your AWS profile ' +
        "(the deployment's controlRegion).",
      { cause: error },
    );
  }
}

/** Refuses a table that is missing, unreachable, not ready, or not laid out as Whetstone's. */
async function checkTable(client: DynamoDBDocumentClient, table: string, region: string): Promise<void> {
  let description: TableDescription | undefined;
  try {
    description = (await client.send(new DescribeTableCommand({ TableName: table }))).Table;
  } catch (error) {
    if (error instanceof Error && error.name === 'ResourceNotFoundException') {
      throw new AwsInitError(
        `Table ${table} does not exist in ${region}. Deploy the platform first (npx cdk deploy --all), ` +
          "or name the deployment's table (its deploymentName) with --table and its region with --region.",
        { cause: error },
      );
    }
    throw new AwsInitError(`Cannot reach table ${table} in ${region}: ${reason(error)}`, { cause: error });
  }
  const expected = tableDefinition(table);
  const sameKey = JSON.stringify(description?.KeySchema) === JSON.stringify(expected.KeySchema);
  const hasIndex = description?.GlobalSecondaryIndexes?.some((index) => index.IndexName === GSI1) ?? false;
  if (!sameKey || !hasIndex) {
    throw new AwsInitError(
      `Table ${table} in ${region} is not a Whetstone table (no PK/SK key with index ${GSI1}); ` +
        "name the deployment's table with --table.",
    );
  }
  const status = description?.TableStatus;
  if (status !== 'ACTIVE' && status !== 'UPDATING') {
    throw new AwsInitError(`Table ${table} in ${region} is ${status ?? 'in an unknown state'}, not ACTIVE.`);
  }
}

/**
 * The team's audit trail shows what this command made, as it shows the same calls through the
 * API. The new key is the actor: no other key took part. A failed write is reported, never
 * allowed to hide the key, which exists by then.
 */
async function recordAudit(
  audit: AuditStore,
  key: CreatedApiKey,
  createdTeam: boolean,
  now: number,
): Promise<string | undefined> {
  const actions = [
    ...(createdTeam ? [{ action: 'teams.create', resource: DEFAULT_TEAM }] : []),
    { action: 'keys.create', resource: key.id },
  ];
  try {
    for (const { action, resource } of actions) {
      await audit.append(
        auditRecord(
          {
            team: DEFAULT_TEAM,
            actor_key_id: key.id,
            actor_role: 'owner',
            action,
            resource_id: resource,
            status_code: 200,
            request_id: AUDIT_REQUEST_ID,
          },
          now,
        ),
      );
    }
    return undefined;
  } catch (error) {
    return reason(error);
  }
}

/** SDK errors of a refused connection can come with an empty message; their code says it then. */
function reason(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as NodeJS.ErrnoException).code;
  return error.message || code || error.name;
}

/** `whet aws init`: prints the key (its only showing) and how to use it. */
export async function runAwsInit(options: AwsInitOptions & { readonly json?: boolean }): Promise<void> {
  const result = await initAwsDeployment(options);
  if (result.auditError) {
    console.error(`warning: the audit trail lacks this key's creation: ${result.auditError}`);
  }
  if (options.json) {
    return printJson({
      table: result.table,
      region: result.region,
      team: DEFAULT_TEAM,
      created_team: result.createdTeam,
      key: result.key,
    });
  }
  const where = `in table ${result.table} (${result.region})`;
  console.log(
    result.createdTeam
      ? `Created team '${DEFAULT_TEAM}' and its owner key ${result.key.id} ${where}.`
      : result.hadLiveOwnerKey
        ? `Created another owner key ${result.key.id} of team '${DEFAULT_TEAM}' ${where} (--force).`
        : `Created owner key ${result.key.id} of team '${DEFAULT_TEAM}' ${where}.`,
  );
  console.log('Its secret is shown only now; store it somewhere safe:');
  console.log('');
  console.log(`  ${result.key.value}`);
  console.log('');
  console.log('Use it with ApiUrl, the API URL that `cdk deploy` printed:');
  console.log('  OPENAI_API_KEY=<key> OPENAI_BASE_URL=<ApiUrl>/v1   (OpenAI SDKs)');
  console.log('  whet login --url <ApiUrl> --api-key <key>          (this CLI)');
}

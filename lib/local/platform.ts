import { mkdirSync } from 'node:fs';
import type { Server } from 'node:http';
import { join, resolve } from 'node:path';
import { AUTHORIZER_MODULE, ROUTES } from '../../lambdas/routes';
import {
  type CredentialsFile,
  credentialsFilePath,
  credentialsFileSchema,
  platformFilePath,
  platformFileSchema,
  processAlive,
  readJsonFile,
  removeFile,
  writeJsonFile,
} from './files';
import { type AuthorizerHandler, createGateway, listeningUrl, type ProxyHandler } from './gateway';
import { TokenBucketLimiter } from './rate-limiter';
import {
  JavaMissingError,
  javaAvailable,
  type RunningService,
  startDynamoDbLocal,
} from './services/dynamodb-local';
import { freePort } from './services/ports';
import { startS3Server } from './services/s3-server';
import { ensureTable } from './table';

export const DEFAULT_TEAM = 'default';
const TABLE_NAME = 'whetstone';
const BUCKET_NAME = 'whetstone-data';
const REGION = 'us-east-1';
const API_GATEWAY_MAX_BODY_BYTES = 10 * 1024 * 1024;

export interface PlatformOptions {
  /** Holds the database, the objects, `platform.json` and `credentials`. */
  readonly dataDir: string;
  /** Gateway port; 0 picks a free one. */
  readonly port: number;
  /** Per-key throttle, as the API Gateway usage plan in AWS. */
  readonly rateLimit?: { readonly ratePerSecond: number; readonly burst: number };
  readonly log?: (line: string) => void;
}

export interface Platform {
  readonly url: string;
  readonly dataDir: string;
  readonly dynamodbEndpoint: string;
  readonly s3Endpoint: string;
  readonly table: string;
  readonly bucket: string;
  /** The owner key, when this start made it (first start of the data dir). */
  readonly createdOwnerKey: string | undefined;
  readonly credentials: CredentialsFile | undefined;
  /** The child services, each stoppable on its own (diagnostics and fault-injection tests). */
  readonly services: { readonly dynamodb: RunningService; readonly s3: RunningService };
  stop(): Promise<void>;
}

/**
 * Starts the whole platform on this machine: DynamoDB Local and the S3 server as child
 * processes on free ports, the table and bucket, the real handlers behind the local gateway,
 * and on first start team `default` with an owner key. Handlers read their configuration from
 * the environment when they load, exactly as in Lambda, so this sets it first; one platform per
 * process.
 */
export async function startPlatform(options: PlatformOptions): Promise<Platform> {
  const log = options.log ?? (() => undefined);
  const dataDir = resolve(options.dataDir);
  mkdirSync(dataDir, { recursive: true });
  const running = readJsonFile(platformFilePath(dataDir), platformFileSchema);
  if (running && running.pid !== process.pid && processAlive(running.pid)) {
    throw new Error(
      `A platform (pid ${running.pid}) already serves ${dataDir} at ${running.url}; stop it first.`,
    );
  }

  if (!javaAvailable()) throw new JavaMissingError();
  const services: RunningService[] = [];
  const stopServices = () => Promise.all(services.map((service) => service.stop()));
  let server: Server | undefined;
  try {
    const [dynamodbPort, s3Port] = [await freePort(), await freePort()];
    // Settle both before going on, so a failure of one never leaves the other running unowned.
    const started = await Promise.allSettled([
      startDynamoDbLocal({ dataDir: join(dataDir, 'dynamodb'), port: dynamodbPort }),
      startS3Server({ dataDir: join(dataDir, 's3'), port: s3Port, bucket: BUCKET_NAME }),
    ]);
    for (const result of started) if (result.status === 'fulfilled') services.push(result.value);
    const failure = started.find((result) => result.status === 'rejected');
    if (failure) throw failure.reason;
    const [dynamodb, s3] = services as [RunningService, RunningService];
    log(`DynamoDB Local at ${dynamodb.endpoint}, S3 at ${s3.endpoint}`);

    Object.assign(process.env, {
      WHETSTONE_ENV: 'local',
      WHETSTONE_TABLE: TABLE_NAME,
      WHETSTONE_BUCKET: BUCKET_NAME,
      AWS_ENDPOINT_URL_DYNAMODB: dynamodb.endpoint,
      AWS_ENDPOINT_URL_S3: s3.endpoint,
      AWS_REGION: REGION,
      // s3rver's fixed credentials (DynamoDB Local accepts any); a developer's real keys stay out.
      AWS_ACCESS_KEY_ID: 'S3RVER',
      AWS_SECRET_ACCESS_KEY: 'S3RVER',
    });
    delete process.env.AWS_SESSION_TOKEN;
    delete process.env.AWS_PROFILE;

    if ((await ensureTable(dynamodb.endpoint, TABLE_NAME)) === 'created') log(`created table ${TABLE_NAME}`);
    const { createdOwnerKey } = await bootstrap();

    // Loaded only now: handlers read their configuration from the environment set above.
    const load = async (module: string) =>
      ((await import(join(__dirname, '..', '..', 'lambdas', module))) as { handler: unknown }).handler;
    const routes = await Promise.all(
      ROUTES.map(async (route) => ({ ...route, handler: (await load(route.module)) as ProxyHandler })),
    );
    const rateLimit = options.rateLimit ?? { ratePerSecond: 50, burst: 100 };
    server = createGateway({
      routes,
      authorizer: (await load(AUTHORIZER_MODULE)) as AuthorizerHandler,
      limiter: new TokenBucketLimiter(rateLimit.ratePerSecond, rateLimit.burst),
      maxBodyBytes: API_GATEWAY_MAX_BODY_BYTES,
      log,
    });
    const listening = server;
    await new Promise<void>((resolveListen, rejectListen) => {
      listening.once('error', rejectListen);
      listening.listen(options.port, '127.0.0.1', () => resolveListen());
    });
    const url = listeningUrl(server);

    writeJsonFile(platformFilePath(dataDir), {
      url,
      dynamodb_endpoint: dynamodb.endpoint,
      s3_endpoint: s3.endpoint,
      table: TABLE_NAME,
      bucket: BUCKET_NAME,
      region: REGION,
      pid: process.pid,
      started_at: Math.floor(Date.now() / 1000),
    });
    const credentials = refreshCredentials(dataDir, url, createdOwnerKey);

    let stopping: Promise<void> | undefined;
    return {
      url,
      dataDir,
      dynamodbEndpoint: dynamodb.endpoint,
      s3Endpoint: s3.endpoint,
      table: TABLE_NAME,
      bucket: BUCKET_NAME,
      createdOwnerKey,
      credentials,
      services: { dynamodb, s3 },
      stop: () => {
        stopping ??= (async () => {
          await new Promise<void>((resolveClose) => {
            listening.close(() => resolveClose());
            listening.closeAllConnections();
          });
          await stopServices();
          removeFile(platformFilePath(dataDir));
        })();
        return stopping;
      },
    };
  } catch (error) {
    server?.close();
    await stopServices();
    throw error;
  }
}

/** Team `default` and its owner key, once per data dir. */
async function bootstrap(): Promise<{ createdOwnerKey: string | undefined }> {
  const { stores } = await import('../../lambdas/runtime/dependencies');
  const { createTeam } = await import('../../lambdas/teams/service');
  const { issueApiKey } = await import('../../lambdas/keys/service');
  if (await stores.teams.get(DEFAULT_TEAM)) return { createdOwnerKey: undefined };
  const now = Date.now();
  await createTeam(stores.teams, { id: DEFAULT_TEAM, name: 'Default team' }, now);
  const key = await issueApiKey(
    stores,
    { team: DEFAULT_TEAM, role: 'owner', name: 'owner (first start)', createdBy: null },
    now,
  );
  return { createdOwnerKey: key.value };
}

function refreshCredentials(
  dataDir: string,
  url: string,
  createdOwnerKey: string | undefined,
): CredentialsFile | undefined {
  const path = credentialsFilePath(dataDir);
  const existing = readJsonFile(path, credentialsFileSchema);
  const apiKey = createdOwnerKey ?? existing?.api_key;
  if (!apiKey) return undefined;
  const credentials: CredentialsFile = { url, api_key: apiKey, team: existing?.team ?? DEFAULT_TEAM };
  writeJsonFile(path, credentials, 0o600);
  return credentials;
}

import { mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join, resolve } from 'node:path';
import { AUTHORIZER_MODULE, ROUTES } from '../../lambdas/routes';
import { everyItem } from '../adapters';
import { API_GATEWAY_MAX_BODY_BYTES } from '../core/errors';
import { type LocalBaseModel, registerLocalBaseModel } from './base-models';
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
import { type AuthorizerHandler, gatewayListener, listeningUrl, type ProxyHandler } from './gateway';
import {
  DEFAULT_TEAM,
  ensureDefaultTeam,
  isLiveOwnerKey,
  issueOwnerKey,
  liveOwnerKeyExists,
} from './owner-key';
import { TokenBucketLimiter } from './rate-limiter';
import {
  JavaMissingError,
  javaAvailable,
  type RunningService,
  startDynamoDbLocal,
} from './services/dynamodb-local';
import { startOnFreePort } from './services/ports';
import { startS3Server } from './services/s3-server';
import { ensureTable } from './table';

export { DEFAULT_TEAM } from './owner-key';

const TABLE_NAME = 'whetstone';
const BUCKET_NAME = 'whetstone-data';
const REGION = 'us-east-1';

export interface PlatformOptions {
  /** Holds the database, the objects, `platform.json` and `credentials`. */
  readonly dataDir: string;
  /** Gateway port; 0 picks a free one. */
  readonly port: number;
  /** Per-key throttle, as the API Gateway usage plan in AWS. */
  readonly rateLimit?: { readonly ratePerSecond: number; readonly burst: number };
  readonly log?: (line: string) => void;
  /** Jobs: the trainer entry point, trainers at once, and each team's running-job limit. */
  readonly jobs?: {
    readonly trainerEntry?: string;
    readonly concurrency?: number;
    readonly maxRunningPerTeam?: number;
  };
  /** Base models on this machine, registered at start when they are not yet (`whet start`: the demo model). */
  readonly baseModels?: readonly LocalBaseModel[];
}

export interface Platform {
  readonly url: string;
  readonly dataDir: string;
  readonly dynamodbEndpoint: string;
  readonly s3Endpoint: string;
  readonly table: string;
  readonly bucket: string;
  /** Whether this start made team `default` (first start of the data dir). */
  readonly createdTeam: boolean;
  /**
   * The owner key, when this start made it: on first start, or when the credentials file was
   * gone and team `default` had no live owner key left.
   */
  readonly createdOwnerKey: string | undefined;
  readonly credentials: CredentialsFile | undefined;
  /** The child services, each stoppable on its own (diagnostics and fault-injection tests). */
  readonly services: { readonly dynamodb: RunningService; readonly s3: RunningService };
  stop(): Promise<void>;
}

/** Set once a start has configured the environment the handlers read when they load. */
let handlersConfigured = false;

/**
 * Starts the whole platform on this machine: DynamoDB Local and the S3 server as child
 * processes on free ports, the table and bucket, the real handlers behind the local gateway,
 * and on first start team `default` with an owner key. Handlers read their configuration from
 * the environment when they load, exactly as in Lambda, so this sets it first; one platform per
 * process, even after the first one stopped or failed to start.
 */
export async function startPlatform(options: PlatformOptions): Promise<Platform> {
  if (handlersConfigured) {
    throw new Error('one platform per process: handlers read their configuration once, when they load');
  }
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
    // The gateway binds before anything is started or written, so a taken port fails the start
    // at once, and before an owner key exists that nobody could be told about.
    const listening = createServer();
    server = listening;
    await listen(listening, options.port);
    const url = listeningUrl(listening);

    // Settle both before going on, so a failure of one never leaves the other running unowned.
    const started = await Promise.allSettled([
      startOnFreePort((port) => startDynamoDbLocal({ dataDir: join(dataDir, 'dynamodb'), port })),
      startOnFreePort((port) => startS3Server({ dataDir: join(dataDir, 's3'), port, bucket: BUCKET_NAME })),
    ]);
    for (const result of started) if (result.status === 'fulfilled') services.push(result.value);
    const failure = started.find((result) => result.status === 'rejected');
    if (failure) throw failure.reason;
    const [dynamodb, s3] = services as [RunningService, RunningService];
    log(`DynamoDB Local at ${dynamodb.endpoint}, S3 at ${s3.endpoint}`);

    // Handlers read their configuration once, at load, so they load after it is known.
    handlersConfigured = true;
    configureHandlers(dynamodb.endpoint, s3.endpoint, dataDir, options.jobs ?? {});
    const load = async (module: string) =>
      ((await import(join(__dirname, '..', '..', 'lambdas', module))) as { handler: unknown }).handler;
    const routes = await Promise.all(
      ROUTES.map(async (route) => ({ ...route, handler: (await load(route.module)) as ProxyHandler })),
    );
    const rateLimit = options.rateLimit ?? { ratePerSecond: 50, burst: 100 };
    listening.on(
      'request',
      gatewayListener({
        routes,
        authorizer: (await load(AUTHORIZER_MODULE)) as AuthorizerHandler,
        limiter: new TokenBucketLimiter(rateLimit.ratePerSecond, rateLimit.burst),
        maxBodyBytes: API_GATEWAY_MAX_BODY_BYTES,
        log,
      }),
    );

    if ((await ensureTable(dynamodb.endpoint, TABLE_NAME)) === 'created') log(`created table ${TABLE_NAME}`);
    const { createdTeam, createdOwnerKey, credentials } = await bootstrap(dataDir, url, log);
    for (const model of options.baseModels ?? []) {
      const outcome = await registerLocalBaseModel(model, Date.now()).catch((error: unknown) => {
        const reason = error instanceof Error ? error.message : String(error);
        throw new Error(`Base model ${model.id} from ${model.dir} could not be registered: ${reason}`, {
          cause: error,
        });
      });
      if (outcome === 'registered') log(`registered base model ${model.id} from ${model.dir}`);
    }
    await launchWaitingJobs(log);

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

    let stopping: Promise<void> | undefined;
    return {
      url,
      dataDir,
      dynamodbEndpoint: dynamodb.endpoint,
      s3Endpoint: s3.endpoint,
      table: TABLE_NAME,
      bucket: BUCKET_NAME,
      createdTeam,
      createdOwnerKey,
      credentials,
      services: { dynamodb, s3 },
      stop: () => {
        stopping ??= (async () => {
          await closeServer(listening);
          // Trainers and deliveries still write their ends through the services, so they stop first.
          const { stopBackgroundWork } = await import('../../lambdas/runtime/dependencies');
          await stopBackgroundWork();
          await stopServices();
          removeFile(platformFilePath(dataDir));
        })();
        return stopping;
      },
    };
  } catch (error) {
    if (server) await closeServer(server);
    await stopServices();
    throw error;
  }
}

/** The environment the handlers read when they load, as Lambda would set it. */
function configureHandlers(
  dynamodbEndpoint: string,
  s3Endpoint: string,
  dataDir: string,
  jobs: NonNullable<PlatformOptions['jobs']>,
): void {
  Object.assign(process.env, {
    ...(jobs.trainerEntry ? { WHETSTONE_TRAINER_ENTRY: jobs.trainerEntry } : {}),
    ...(jobs.concurrency ? { WHETSTONE_LOCAL_CONCURRENCY: String(jobs.concurrency) } : {}),
    ...(jobs.maxRunningPerTeam
      ? { WHETSTONE_MAX_RUNNING_JOBS_PER_TEAM: String(jobs.maxRunningPerTeam) }
      : {}),
    WHETSTONE_DATA_DIR: dataDir,
    WHETSTONE_ENV: 'local',
    WHETSTONE_TABLE: TABLE_NAME,
    WHETSTONE_BUCKET: BUCKET_NAME,
    AWS_ENDPOINT_URL_DYNAMODB: dynamodbEndpoint,
    AWS_ENDPOINT_URL_S3: s3Endpoint,
    AWS_REGION: REGION,
    // s3rver's fixed credentials (DynamoDB Local accepts any); a developer's real keys stay out.
    AWS_ACCESS_KEY_ID: 'S3RVER',
    AWS_SECRET_ACCESS_KEY: 'S3RVER',
  });
  delete process.env.AWS_SESSION_TOKEN;
  delete process.env.AWS_PROFILE;
}

async function listen(server: Server, port: number): Promise<void> {
  try {
    await new Promise<void>((resolveListen, rejectListen) => {
      server.once('error', rejectListen);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', rejectListen);
        resolveListen();
      });
    });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason =
      code === 'EADDRINUSE'
        ? 'the port is in use'
        : code === 'EACCES'
          ? 'permission denied'
          : error instanceof Error
            ? error.message
            : String(error);
    throw new Error(
      `The gateway cannot listen on 127.0.0.1:${port}: ${reason}. ` +
        'Choose another port with --port or WHETSTONE_PORT (0 picks a free one).',
      { cause: error },
    );
  }
}

function closeServer(server: Server): Promise<void> {
  return new Promise<void>((resolveClose) => {
    server.close(() => resolveClose());
    server.closeAllConnections();
  });
}

/**
 * Team `default`, and an owner key whenever nobody could hold one: on first start, and again
 * when the credentials file is gone (or holds no key) while team `default` has no live owner
 * key, as after a start that died between making the team and saving its key. A new key is
 * saved the moment it exists, so no later failure can leave it known to nobody.
 */
async function bootstrap(
  dataDir: string,
  url: string,
  log: (line: string) => void,
): Promise<{
  createdTeam: boolean;
  createdOwnerKey: string | undefined;
  credentials: CredentialsFile | undefined;
}> {
  const { stores } = await import('../../lambdas/runtime/dependencies');
  const now = Date.now();
  const createdTeam = await ensureDefaultTeam(stores.teams, now);

  const path = credentialsFilePath(dataDir);
  const saved = savedCredentials(path, log);
  const nowSeconds = Math.floor(now / 1000);
  if (saved && (await isLiveOwnerKey(stores.apiKeys, saved.api_key, nowSeconds))) {
    const credentials: CredentialsFile = { url, api_key: saved.api_key, team: saved.team };
    writeJsonFile(path, credentials, 0o600);
    return { createdTeam, createdOwnerKey: undefined, credentials };
  }
  if (saved) log(`the key saved in ${path} is no longer a live owner key`);
  if (await liveOwnerKeyExists(stores.apiKeys, nowSeconds)) {
    return { createdTeam, createdOwnerKey: undefined, credentials: undefined };
  }
  const key = await issueOwnerKey(
    stores,
    createdTeam ? 'owner (first start)' : 'owner (made at start: no credentials, no live owner key)',
    now,
  );
  const credentials: CredentialsFile = { url, api_key: key.value, team: DEFAULT_TEAM };
  writeJsonFile(path, credentials, 0o600);
  return { createdTeam, createdOwnerKey: key.value, credentials };
}

/**
 * Jobs left waiting for a running-job slot when the platform last stopped: the jobs that held the
 * slots ended with that stop, and no later end would come to launch these.
 */
async function launchWaitingJobs(log: (line: string) => void): Promise<void> {
  const { jobDeps, stores } = await import('../../lambdas/runtime/dependencies');
  const { launchWaiting } = await import('../../lambdas/jobs/launching');
  for await (const team of everyItem((after) =>
    stores.teams.list({ limit: 100, ...(after ? { after } : {}) }),
  )) {
    if ((await stores.jobs.waiting(team.id, 1)).length > 0) {
      log(`launching waiting jobs of team ${team.id}`);
      await launchWaiting(jobDeps, team.id);
    }
  }
}

/** The saved owner key, if the credentials file is there and holds one. */
function savedCredentials(path: string, log: (line: string) => void): CredentialsFile | undefined {
  try {
    const saved = readJsonFile(path, credentialsFileSchema);
    return saved?.api_key ? saved : undefined;
  } catch (error) {
    log(`ignoring ${path}: ${error instanceof Error ? error.message : String(error)}`);
    return undefined;
  }
}

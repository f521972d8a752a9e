import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPlatform } from '../../lib/local/platform';

/**
 * startPlatform's refusals, in this worker's process. The taken port fails before any child
 * process starts.
 */
describe('startPlatform', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'whetstone-platform-'));
  const occupier: Server = createServer();
  let takenPort: number;

  beforeAll(async () => {
    await new Promise<void>((resolve) => occupier.listen(0, '127.0.0.1', () => resolve()));
    takenPort = (occupier.address() as { port: number }).port;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => occupier.close(() => resolve()));
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('fails on a taken gateway port, naming it, before it writes anything', async () => {
    // Act
    const failure = await startPlatform({ dataDir, port: takenPort }).catch((error: unknown) => error);

    // Assess
    expect((failure as Error).message).toBe(
      `The gateway cannot listen on 127.0.0.1:${takenPort}: the port is in use. ` +
        'Choose another port with --port or WHETSTONE_PORT (0 picks a free one).',
    );
    expect(existsSync(join(dataDir, 'credentials'))).toBe(false);
    expect(existsSync(join(dataDir, 'platform.json'))).toBe(false);
  });

  it('starts after a failed start, and refuses a second platform in the process once its handlers loaded', async () => {
    // Prepare
    const first = await startPlatform({ dataDir, port: 0 });
    await first.stop();

    // Act
    const failure = await startPlatform({ dataDir, port: 0 }).catch((error: unknown) => error);

    // Assess
    expect(first.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(failure).toEqual(
      new Error('one platform per process: handlers read their configuration once, when they load'),
    );
  });
});

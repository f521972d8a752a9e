import { createServer } from 'node:net';

/** Asks the OS for a free loopback port. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** A service could not bind its port: another process took it after `freePort` chose it. */
export class PortTakenError extends Error {
  constructor(
    readonly service: string,
    readonly port: number,
    detail: string,
  ) {
    super(`${service} could not bind 127.0.0.1:${port}, which another process took:\n${detail}`);
    this.name = 'PortTakenError';
  }
}

/**
 * Starts a service on a free port, choosing another when the one chosen is taken before the
 * service binds it. A service that must be told its port (DynamoDB Local cannot bind port 0)
 * always races the other processes on the machine for it; losing that race should cost a retry,
 * not the start.
 */
export async function startOnFreePort<T>(start: (port: number) => Promise<T>, attempts = 5): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await start(await freePort());
    } catch (error) {
      if (!(error instanceof PortTakenError) || attempt >= attempts) throw error;
    }
  }
}

/**
 * Polls `probe` until it answers true. False means "not ready yet"; a thrown error means the
 * thing will never be ready (its process died, say), so it ends the wait at once with that error.
 */
export async function waitFor(what: string, probe: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await probe()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${what} did not become ready within ${timeoutMs} ms`);
}

import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = resolve(__dirname, '..', '..', '..');

function portRefuses(port: number): Promise<boolean> {
  return new Promise((resolvePort) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolvePort(false);
    });
    socket.once('error', () => resolvePort(true));
  });
}

/** The pids of S3 server children serving `dataDir`. */
function s3ServersFor(dataDir: string): number[] {
  return execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' })
    .split('\n')
    .filter((line) => line.includes('s3-server-main') && line.includes(dataDir))
    .map((line) => Number.parseInt(line.trim(), 10));
}

describe('startS3Server', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'whetstone-s3-'));
  afterAll(() => {
    // Only if the behaviour under test failed: the orphan this test made must not outlive it.
    for (const pid of s3ServersFor(dataDir)) process.kill(pid, 'SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('stops the S3 server when the process that started it is killed outright', async () => {
    // Prepare: a parent that starts the server and then dies without a chance to stop it
    const parent = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        '--eval',
        `require('./lib/local/services/ports').freePort().then((port) =>
           require('./lib/local/services/s3-server')
             .startS3Server({ dataDir: ${JSON.stringify(dataDir)}, port, bucket: 'b' })
             .then(() => console.log('port ' + port)));`,
      ],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const port = await new Promise<number>((resolvePort, rejectPort) => {
      let output = '';
      parent.stdout.on('data', (chunk: Buffer) => {
        output += chunk.toString('utf8');
        const match = /port (\d+)/.exec(output);
        if (match?.[1]) resolvePort(Number(match[1]));
      });
      parent.once('exit', (code) => rejectPort(new Error(`the parent exited with ${code}: ${output}`)));
    });
    const servedBefore = !(await portRefuses(port));

    // Act
    await new Promise<void>((resolveExit) => {
      parent.once('exit', () => resolveExit());
      parent.kill('SIGKILL');
    });
    // The child closes its port first and exits after its connections drain: wait for both.
    let refused = false;
    let remaining = s3ServersFor(dataDir);
    for (let attempt = 0; attempt < 100 && !(refused && remaining.length === 0); attempt += 1) {
      await new Promise((resolveWait) => setTimeout(resolveWait, 100));
      refused = await portRefuses(port);
      remaining = s3ServersFor(dataDir);
    }

    // Assess
    expect(servedBefore).toBe(true);
    expect(refused).toBe(true);
    expect(remaining).toEqual([]);
  });
});

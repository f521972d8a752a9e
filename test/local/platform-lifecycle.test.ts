import { type ChildProcessWithoutNullStreams, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { chatDataset, fileForm } from '../helpers/platform';

const ROOT = resolve(__dirname, '..', '..');

interface Started {
  readonly child: ChildProcessWithoutNullStreams;
  readonly url: string;
  readonly output: () => string;
}

/** `whet start` as a user runs it, as a real child process; resolves once it serves. */
function startCli(dataDir: string, env: NodeJS.ProcessEnv = process.env): Promise<Started> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'bin/whet.ts', 'start', '--data-dir', dataDir, '--port', '0'],
    {
      cwd: ROOT,
      env,
    },
  );
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString('utf8');
  });
  child.stderr.on('data', (chunk: Buffer) => {
    output += chunk.toString('utf8');
  });
  return new Promise((resolveStart, rejectStart) => {
    const timer = setTimeout(() => rejectStart(new Error(`no start within 60 s:\n${output}`)), 60_000);
    const check = () => {
      const match = /Whetstone is serving (http:\/\/\S+)/.exec(output);
      if (match?.[1] && output.includes('Press Ctrl-C to stop.')) {
        clearTimeout(timer);
        resolveStart({ child, url: match[1], output: () => output });
      }
    };
    child.stdout.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      rejectStart(Object.assign(new Error(`exited with ${code}:\n${output}`), { output, code }));
    });
  });
}

function stop(started: Started, signal: NodeJS.Signals): Promise<number | null> {
  return new Promise((resolveStop) => {
    started.child.once('exit', (code) => resolveStop(code));
    started.child.kill(signal);
  });
}

function portRefuses(endpoint: string): Promise<boolean> {
  const { hostname, port } = new URL(endpoint);
  return new Promise((resolvePort) => {
    const socket = connect(Number(port), hostname);
    socket.once('connect', () => {
      socket.destroy();
      resolvePort(false);
    });
    socket.once('error', () => resolvePort(true));
  });
}

function javaProcessesFor(dataDir: string): string[] {
  const lines = execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).split('\n');
  return lines.filter((line) => line.includes('DynamoDBLocal.jar') && line.includes(dataDir));
}

describe('whet start', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'whetstone-lifecycle-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('keeps state across a restart, and Ctrl-C stops every child process', async () => {
    // Prepare
    const first = await startCli(dataDir);
    const ownerKey = /^\s+(whet_\S+)$/m.exec(first.output())?.[1] ?? '';
    const platformFile = JSON.parse(readFileSync(join(dataDir, 'platform.json'), 'utf8')) as {
      dynamodb_endpoint: string;
      s3_endpoint: string;
      url: string;
    };
    const uploaded = await fetch(`${first.url}/v1/files`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${ownerKey}` },
      body: fileForm(chatDataset(10), 'kept.jsonl'),
    });
    const file = (await uploaded.json()) as { id: string };

    // Act
    const firstExit = await stop(first, 'SIGINT');
    const childrenGone =
      (await portRefuses(platformFile.dynamodb_endpoint)) && (await portRefuses(platformFile.s3_endpoint));
    const javaLeft = javaProcessesFor(dataDir);
    const second = await startCli(dataDir);
    const readBack = await fetch(`${second.url}/v1/files/${file.id}/content`, {
      headers: { Authorization: `Bearer ${ownerKey}` },
    });
    const credentials = JSON.parse(readFileSync(join(dataDir, 'credentials'), 'utf8')) as Record<
      string,
      string
    >;
    const credentialsMode = statSync(join(dataDir, 'credentials')).mode & 0o777;
    const secondExit = await stop(second, 'SIGTERM');

    // Assess
    expect(platformFile.url).toBe(first.url);
    expect(ownerKey).toMatch(/^whet_[0-9A-Z]{26}_[\w-]{43}$/);
    expect(uploaded.status).toBe(200);
    expect(firstExit).toBe(0);
    expect(childrenGone).toBe(true);
    expect(javaLeft).toEqual([]);
    expect(existsSync(join(dataDir, 'platform.json'))).toBe(false);
    expect(second.output()).toContain(`The owner key is in ${dataDir}/credentials`);
    expect(second.output()).not.toContain('Created team');
    expect(readBack.status).toBe(200);
    expect(await readBack.text()).toBe(chatDataset(10));
    expect(credentials).toEqual({ url: second.url, api_key: ownerKey, team: 'default' });
    expect(credentialsMode).toBe(0o600);
    expect(secondExit).toBe(0);
  });

  it('refuses a second platform on a data dir that is being served', async () => {
    // Prepare
    const running = await startCli(dataDir);

    // Act
    const failure = await startCli(dataDir).catch((error: { output: string; code: number }) => error);

    // Assess
    expect(failure).toMatchObject({ code: 1 });
    expect((failure as { output: string }).output).toContain(
      `already serves ${dataDir} at ${running.url}; stop it first.`,
    );
    await stop(running, 'SIGINT');
  });

  it('says how to install Java when it is missing, without a stack trace', async () => {
    // Prepare: a PATH with node and nothing else
    const bin = mkdtempSync(join(tmpdir(), 'whetstone-nojava-'));
    mkdirSync(bin, { recursive: true });
    symlinkSync(process.execPath, join(bin, 'node'));

    // Act
    const failure = await startCli(join(bin, 'data'), { ...process.env, PATH: bin }).catch(
      (error: { output: string; code: number }) => error,
    );

    // Assess
    expect(failure).toMatchObject({ code: 1 });
    const output = (failure as { output: string }).output;
    expect(output).toContain('DynamoDB Local needs Java 17 or newer, and `java` was not found on PATH.');
    expect(output).toContain('sudo apt-get install -y openjdk-17-jre-headless');
    expect(output).not.toMatch(/^\s+at /m);
    rmSync(bin, { recursive: true, force: true });
  });
});

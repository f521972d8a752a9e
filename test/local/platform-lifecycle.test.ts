import { type ChildProcessWithoutNullStreams, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { connect, createServer } from 'node:net';
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

interface CliOptions {
  readonly env?: NodeJS.ProcessEnv;
  readonly port?: number;
  readonly verbose?: boolean;
}

/** `whet start` as a user runs it, as a real child process. */
function spawnCli(dataDir: string, options: CliOptions = {}): ChildProcessWithoutNullStreams {
  return spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'bin/whet.ts',
      'start',
      '--data-dir',
      dataDir,
      '--port',
      String(options.port ?? 0),
      ...(options.verbose ? ['--verbose'] : []),
    ],
    { cwd: ROOT, env: options.env ?? process.env },
  );
}

/** `whet start`; resolves once it serves, rejects with its output and exit code if it exits first. */
function startCli(dataDir: string, options: CliOptions = {}): Promise<Started> {
  const child = spawnCli(dataDir, options);
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

/** The owner key `whet start` printed, when it made one. */
function printedKey(output: string): string | undefined {
  return /^\s+(whet_\S+)$/m.exec(output)?.[1];
}

function readCredentials(dataDir: string): unknown {
  return JSON.parse(readFileSync(join(dataDir, 'credentials'), 'utf8'));
}

function listFiles(url: string, key: string): Promise<Response> {
  return fetch(`${url}/v1/files`, { headers: { Authorization: `Bearer ${key}` } });
}

// Each start here is a real DynamoDB Local and S3 server: seconds each, more on a busy machine.
describe('whet start', { timeout: 120_000 }, () => {
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
    const failure = await startCli(join(bin, 'data'), { env: { ...process.env, PATH: bin } }).catch(
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

  it('never strands the owner key: not on a taken port, nor when the credentials file is lost', async () => {
    // Prepare
    const keyDir = mkdtempSync(join(tmpdir(), 'whetstone-owner-key-'));
    const occupier = createServer();
    await new Promise<void>((resolveListen) => occupier.listen(0, '127.0.0.1', () => resolveListen()));
    const takenPort = (occupier.address() as { port: number }).port;

    // Act: a start on the taken port, then one on a free port
    const failure = await startCli(keyDir, { port: takenPort }).catch(
      (error: { output: string; code: number }) => error,
    );
    const credentialsAfterFailure = existsSync(join(keyDir, 'credentials'));
    const javaAfterFailure = javaProcessesFor(keyDir);
    await new Promise<void>((resolveClose) => occupier.close(() => resolveClose()));
    const first = await startCli(keyDir);
    const firstKey = printedKey(first.output()) ?? '';
    const listedWithFirstKey = await listFiles(first.url, firstKey);
    const firstCredentials = readCredentials(keyDir);
    rmSync(join(keyDir, 'credentials'));
    await stop(first, 'SIGTERM');

    // Act: without the credentials file, first while the first key is live, then once it is revoked
    const withLiveKey = await startCli(keyDir);
    const credentialsWithLiveKey = existsSync(join(keyDir, 'credentials'));
    const revoked = await fetch(`${withLiveKey.url}/v1/whetstone/keys/key_${firstKey.split('_')[1]}`, {
      method: 'DELETE',
      headers: { Authorization: `Bearer ${firstKey}` },
    });
    await stop(withLiveKey, 'SIGTERM');
    const withoutLiveKey = await startCli(keyDir);
    const newKey = printedKey(withoutLiveKey.output()) ?? '';
    const listedWithNewKey = await listFiles(withoutLiveKey.url, newKey);
    const newCredentials = readCredentials(keyDir);
    await stop(withoutLiveKey, 'SIGTERM');

    // Assess
    expect(failure).toMatchObject({ code: 1 });
    expect((failure as { output: string }).output).toContain(
      `The gateway cannot listen on 127.0.0.1:${takenPort}: the port is in use. ` +
        'Choose another port with --port or WHETSTONE_PORT (0 picks a free one).',
    );
    expect(credentialsAfterFailure).toBe(false);
    expect(javaAfterFailure).toEqual([]);
    expect(first.output()).toContain("Created team 'default' and its owner key");
    expect(firstKey).toMatch(/^whet_[0-9A-Z]{26}_[\w-]{43}$/);
    expect(listedWithFirstKey.status).toBe(200);
    expect(firstCredentials).toEqual({ url: first.url, api_key: firstKey, team: 'default' });
    expect(withLiveKey.output()).toContain(
      `There is no ${keyDir}/credentials; team 'default' still has a live owner key: use the one shown when it was made.`,
    );
    expect(printedKey(withLiveKey.output())).toBeUndefined();
    expect(credentialsWithLiveKey).toBe(false);
    expect(revoked.status).toBe(200);
    expect(withoutLiveKey.output()).toContain(
      "Created a new owner key for team 'default', which had no credentials file and no live owner key",
    );
    expect(newKey).toMatch(/^whet_[0-9A-Z]{26}_[\w-]{43}$/);
    expect(newKey).not.toBe(firstKey);
    expect(listedWithNewKey.status).toBe(200);
    expect(newCredentials).toEqual({ url: withoutLiveKey.url, api_key: newKey, team: 'default' });
    rmSync(keyDir, { recursive: true, force: true });
  });

  it('stops every child process on a Ctrl-C that comes while it is still starting', async () => {
    // Prepare: the verbose log names the services once they run, before the table and the gateway's owner key
    const startingDir = mkdtempSync(join(tmpdir(), 'whetstone-interrupted-'));
    const child = spawnCli(startingDir, { verbose: true });
    let output = '';
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
    });
    const exited = new Promise<number | null>((resolveExit) =>
      child.once('exit', (code) => resolveExit(code)),
    );
    const endpoints = await new Promise<{ dynamodb: string; s3: string }>(
      (resolveEndpoints, rejectEndpoints) => {
        child.stdout.on('data', (chunk: Buffer) => {
          output += chunk.toString('utf8');
          const match = /DynamoDB Local at (\S+), S3 at (\S+)/.exec(output);
          if (match?.[1] && match[2]) resolveEndpoints({ dynamodb: match[1], s3: match[2] });
        });
        child.once('exit', (code) =>
          rejectEndpoints(new Error(`exited with ${code} before its services ran:\n${output}`)),
        );
      },
    );

    // Act
    child.kill('SIGINT');
    const code = await exited;

    // Assess
    expect(code).toBe(0);
    expect(output).toContain('SIGINT: stopping');
    expect(await portRefuses(endpoints.dynamodb)).toBe(true);
    expect(await portRefuses(endpoints.s3)).toBe(true);
    expect(javaProcessesFor(startingDir)).toEqual([]);
    expect(existsSync(join(startingDir, 'platform.json'))).toBe(false);
    rmSync(startingDir, { recursive: true, force: true });
  });
});

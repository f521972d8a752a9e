import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatTime } from '../../lib/cli/output';
import { WhetstoneClient } from '../../lib/client';
import { parseApiKey } from '../../lib/core/auth';
import { chatDataset, startTestPlatform, type TestPlatform } from '../helpers/platform';
import { isolatedEnv, tableOf, whet } from './whet';

describe('whet commands', () => {
  let platform: TestPlatform;
  let owner: WhetstoneClient;
  let scratch: string;
  /** No user config and no credentials file: only what a test passes reaches the CLI. */
  let isolated: Record<string, string>;
  let asOwner: Record<string, string>;

  beforeAll(async () => {
    platform = await startTestPlatform();
    owner = new WhetstoneClient({ url: platform.url, apiKey: platform.ownerKey });
    scratch = mkdtempSync(join(tmpdir(), 'whetstone-cli-'));
    isolated = isolatedEnv(scratch);
    asOwner = { ...isolated, WHETSTONE_URL: platform.url, WHETSTONE_API_KEY: platform.ownerKey };
  });
  afterAll(async () => {
    await platform?.stop();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  it('creates a team and lists it', async () => {
    // Act
    const created = await whet(['teams', 'create', 'acme', '--name', 'Acme Corp'], asOwner);
    const listed = await whet(['teams', 'list'], asOwner);

    // Assess
    expect(created).toEqual({ code: 0, stdout: 'Created team acme (Acme Corp).\n', stderr: '' });
    const teams = await owner.teams.list();
    expect(listed.code).toBe(0);
    expect(listed.stderr).toBe('');
    expect(tableOf(listed.stdout)).toEqual([
      ['ID', 'NAME', 'CREATED'],
      ...teams.data.map((team) => [team.id, team.name, formatTime(team.created_at)]),
    ]);
    expect(teams.data.map((team) => [team.id, team.name])).toEqual([
      ['acme', 'Acme Corp'],
      ['default', 'Default team'],
    ]);
  });

  it('creates a key, shows its secret once, and the key works', async () => {
    // Prepare
    await owner.teams.create({ id: 'key-makers' });

    // Act
    const run = await whet(
      ['keys', 'create', '--team', 'key-makers', '--role', 'member', '--name', 'ci'],
      asOwner,
    );

    // Assess
    expect(run.code).toBe(0);
    expect(run.stderr).toBe('');
    const printed = run.stdout.match(
      /^Created member key (key_\w+) named ci for team key-makers\.\nIts secret is shown only now; store it somewhere safe:\n\n {2}(whet_\S+)\n\n$/,
    );
    expect(printed).not.toBeNull();
    const [, keyId = '', secret = ''] = printed ?? [];
    const member = new WhetstoneClient({ url: platform.url, apiKey: secret });
    expect((await member.teams.list()).data.map((team) => team.id)).toEqual(['key-makers']);
    expect((await member.files.list()).data).toEqual([]);
    const listed = await owner.keys.list({ team: 'key-makers' });
    expect(listed.data.map((key) => [key.id, key.role, key.name])).toEqual([[keyId, 'member', 'ci']]);
  });

  it('lists keys without their secrets', async () => {
    // Prepare
    await owner.teams.create({ id: 'key-listers' });
    const key = await owner.keys.create({ team: 'key-listers', role: 'admin', name: 'ops' });

    // Act
    const run = await whet(['keys', 'list', '--team', 'key-listers'], asOwner);

    // Assess
    expect(run.code).toBe(0);
    expect(run.stderr).toBe('');
    expect(tableOf(run.stdout)).toEqual([
      ['ID', 'TEAM', 'ROLE', 'NAME', 'KEY', 'CREATED', 'EXPIRES', 'STATE'],
      [key.id, 'key-listers', 'admin', 'ops', key.redacted_value, formatTime(key.created_at), '-', 'active'],
    ]);
    expect(run.stdout).not.toContain(key.value);
    expect(run.stdout).not.toContain(parseApiKey(key.value)?.secret);
  });

  it('revokes a key, which then stops working', async () => {
    // Prepare
    await owner.teams.create({ id: 'key-losers' });
    const key = await owner.keys.create({ team: 'key-losers', role: 'member' });

    // Act
    const run = await whet(['keys', 'revoke', key.id, '--team', 'key-losers'], asOwner);

    // Assess
    expect(run).toEqual({
      code: 0,
      stdout: `Revoked member key ${key.id} of team key-losers.\n`,
      stderr: '',
    });
    const revoked = new WhetstoneClient({ url: platform.url, apiKey: key.value });
    await expect(revoked.files.list()).rejects.toMatchObject({ status: 401, code: 'invalid_api_key' });
    const listed = await owner.keys.list({ team: 'key-losers' });
    expect(listed.data.map((listedKey) => listedKey.revoked_at === null)).toEqual([false]);
  });

  it('uploads a valid dataset and shows it processed', async () => {
    // Prepare
    const path = join(scratch, 'train.jsonl');
    const content = chatDataset(12);
    writeFileSync(path, content);

    // Act
    const run = await whet(['files', 'upload', path], asOwner);

    // Assess
    expect(run.code).toBe(0);
    expect(run.stderr).toBe('');
    const fileId = run.stdout.match(/^id: {7}(file-\w+)\n/)?.[1] ?? '';
    const file = await owner.files.retrieve(fileId);
    expect(file.status).toBe('processed');
    expect(run.stdout).toBe(
      [
        `id:       ${fileId}`,
        'filename: train.jsonl',
        `bytes:    ${Buffer.byteLength(content)}`,
        'status:   processed',
        `examples: 12 (chat, about ${file.whetstone.validation?.estimated_tokens} tokens)`,
        '',
      ].join('\n'),
    );
  });

  it('uploads an invalid dataset, shows where it is wrong, and exits 1', async () => {
    // Prepare
    const path = join(scratch, 'broken.jsonl');
    const lines = chatDataset(12).split('\n');
    lines[2] = '{"messages": [';
    writeFileSync(path, lines.join('\n'));

    // Act
    const run = await whet(['files', 'upload', path, '--purpose', 'fine-tune'], asOwner);

    // Assess
    expect(run.code).toBe(1);
    const fileId = run.stdout.match(/^id: {7}(file-\w+)\n/)?.[1] ?? '';
    const file = await owner.files.retrieve(fileId);
    expect(file.status).toBe('error');
    expect(file.status_details).toBe('1 problem: line 3: line is not valid JSON');
    expect(run.stdout).toContain('status:   error\n');
    expect(run.stdout).toContain('details:  1 problem: line 3: line is not valid JSON\n');
    expect(run.stderr).toBe(
      `error: ${path} is not a valid fine-tuning dataset: 1 problem: line 3: line is not valid JSON\n`,
    );
  });

  it('lists, shows, downloads and deletes a file', { timeout: 60_000 }, async () => {
    // Prepare
    const memberKey = await platform.createTeamKey('file-keepers', 'member');
    const member = new WhetstoneClient({ url: platform.url, apiKey: memberKey });
    const content = chatDataset(10);
    const file = await member.files.create({
      filename: 'keep.jsonl',
      content: new TextEncoder().encode(content),
      purpose: 'fine-tune',
    });
    const asMember = { ...isolated, WHETSTONE_URL: platform.url, WHETSTONE_API_KEY: memberKey };
    const output = join(scratch, 'downloaded.jsonl');

    // Act
    const [listed, shown, downloaded, streamed] = await Promise.all([
      whet(['files', 'list'], asMember),
      whet(['files', 'get', file.id, '--json'], asMember),
      whet(['files', 'content', file.id, '-o', output], asMember),
      whet(['files', 'content', file.id], asMember),
    ]);
    const deleted = await whet(['files', 'delete', file.id], asMember);

    // Assess
    expect(tableOf(listed.stdout)).toEqual([
      ['ID', 'STATUS', 'BYTES', 'CREATED', 'FILENAME'],
      [file.id, 'processed', String(Buffer.byteLength(content)), formatTime(file.created_at), 'keep.jsonl'],
    ]);
    expect(JSON.parse(shown.stdout)).toEqual(file);
    expect(downloaded.stdout).toBe(`Wrote ${Buffer.byteLength(content)} bytes to ${output}.\n`);
    expect(readFileSync(output, 'utf8')).toBe(content);
    expect(streamed.stdout).toBe(content);
    expect(deleted).toEqual({ code: 0, stdout: `Deleted ${file.id}.\n`, stderr: '' });
    expect([listed.code, shown.code, downloaded.code, streamed.code]).toEqual([0, 0, 0, 0]);
    expect([listed.stderr, shown.stderr, downloaded.stderr, streamed.stderr]).toEqual(['', '', '', '']);
    await expect(member.files.retrieve(file.id)).rejects.toMatchObject({
      status: 404,
      param: 'file_id',
      message: `No such File object: ${file.id}`,
    });
  });

  it('logs in: checks the key, saves it for the user only, and later commands use it', async () => {
    // Prepare
    const configHome = join(scratch, 'login-config');
    const env = { ...isolated, XDG_CONFIG_HOME: configHome };
    const configPath = join(configHome, 'whetstone', 'config.json');

    // Act
    const refused = await whet(['login', '--url', platform.url, '--api-key', 'whet_not_a_key'], env);
    const refusedLeftConfig = statSync(configPath, { throwIfNoEntry: false }) !== undefined;
    const login = await whet(['login', '--url', `${platform.url}/`, '--api-key', platform.ownerKey], env);
    const later = await whet(['teams', 'list', '--json'], env);

    // Assess
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^error: Incorrect or missing API key\./);
    expect(refusedLeftConfig).toBe(false);
    expect(login.code).toBe(0);
    expect(login.stderr).toBe('');
    const teams = (await owner.teams.list()).data.map((team) => team.id);
    const shown = `${teams.slice(0, 5).join(', ')}${teams.length > 5 ? ', ...' : ''}`;
    expect(login.stdout).toBe(
      `The key works against ${platform.url} (teams: ${shown}).\nSaved to ${configPath}.\n`,
    );
    expect(statSync(configPath).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(configPath, 'utf8'))).toEqual({
      url: platform.url,
      api_key: platform.ownerKey,
    });
    expect(later.code).toBe(0);
    expect(JSON.parse(later.stdout)).toEqual(await owner.teams.list());
  });

  it('reports a refused key as one error line and exits 1', async () => {
    // Act
    const run = await whet(['teams', 'list'], { ...asOwner, WHETSTONE_API_KEY: 'whet_wrong' });

    // Assess
    expect(run).toEqual({
      code: 1,
      stdout: '',
      stderr:
        'error: Incorrect or missing API key. Send it as `Authorization: Bearer <key>`. (the key came from WHETSTONE_API_KEY)\n',
    });
  });

  it("names the request's parameter at fault", async () => {
    // Act
    const run = await whet(['keys', 'create', '--team', 'nobody-here'], asOwner);

    // Assess
    expect(run).toEqual({ code: 1, stdout: '', stderr: 'error: No such team: nobody-here (param: team)\n' });
  });

  it('lists the four ways to name a target when none is given', async () => {
    // Act
    const run = await whet(['files', 'list'], isolated);

    // Assess
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe(
      [
        'error: No Whetstone URL and API key found. Give them in one of four ways:',
        '  1. the --url and --api-key options;',
        '  2. the WHETSTONE_URL and WHETSTONE_API_KEY environment variables;',
        `  3. \`whet login --url URL --api-key KEY\`, which saves them in ${join(isolated.XDG_CONFIG_HOME ?? '', 'whetstone', 'config.json')};`,
        `  4. ${join(isolated.WHETSTONE_DATA_DIR ?? '', 'credentials')}, which \`whet start\` writes (WHETSTONE_DATA_DIR names another data dir).`,
        '',
      ].join('\n'),
    );
  });
});

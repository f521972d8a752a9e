import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { type Platform, type PlatformOptions, startPlatform } from '../../lib/local/platform';

/** The trainer test platforms run: it does what each job's `test_trainer` metadata tells it. */
export const TEST_TRAINER = join(__dirname, 'trainer', 'test-trainer.ts');

export interface TestPlatform {
  readonly platform: Platform;
  readonly url: string;
  /** The owner key of team `default`. */
  readonly ownerKey: string;
  /** fetch against the gateway with a key; `path` starts with `/v1/...`. */
  call(
    key: string | null,
    method: string,
    path: string,
    init?: { body?: RequestInit['body']; headers?: Record<string, string> },
  ): Promise<Response>;
  /** Creates a team and an API key in it with the owner key. */
  createTeamKey(team: string, role?: 'member' | 'admin' | 'finance' | 'owner'): Promise<string>;
  /** Every item in the table, by entity. */
  countRecords(): Promise<Record<string, number>>;
  /** Every object key in the bucket. */
  listObjects(): Promise<string[]>;
  /** One object of the bucket, as text. */
  readObject(key: string): Promise<string>;
  stop(): Promise<void>;
}

/**
 * One platform per test file: DynamoDB Local and s3rver as children of the test worker, the
 * gateway in it, all on free ports and a fresh data dir. Handlers read their configuration at
 * load, so a worker process holds one platform.
 */
export async function startTestPlatform(
  options: { rateLimit?: { ratePerSecond: number; burst: number }; jobs?: PlatformOptions['jobs'] } = {},
): Promise<TestPlatform> {
  const dataDir = mkdtempSync(join(tmpdir(), 'whetstone-test-'));
  const platform = await startPlatform({
    dataDir,
    port: 0,
    rateLimit: options.rateLimit ?? { ratePerSecond: 10_000, burst: 10_000 },
    // Lifecycle tests steer the test trainer; the product trainer has tests of its own.
    jobs: { trainerEntry: TEST_TRAINER, ...options.jobs },
  });
  const ownerKey = platform.createdOwnerKey;
  if (!ownerKey) throw new Error('a fresh data dir must create the owner key');
  const dynamodb = new DynamoDBClient({ endpoint: platform.dynamodbEndpoint });
  const s3 = new S3Client({ endpoint: platform.s3Endpoint, forcePathStyle: true });

  const call: TestPlatform['call'] = (key, method, path, init = {}) =>
    fetch(`${platform.url}${path}`, {
      method,
      headers: { ...(key ? { Authorization: `Bearer ${key}` } : {}), ...init.headers },
      ...(init.body !== undefined ? { body: init.body } : {}),
      redirect: 'manual',
    });

  return {
    platform,
    url: platform.url,
    ownerKey,
    call,
    async createTeamKey(team, role = 'member') {
      const json = { 'Content-Type': 'application/json' };
      const created = await call(ownerKey, 'POST', '/v1/whetstone/teams', {
        body: JSON.stringify({ id: team }),
        headers: json,
      });
      if (created.status !== 200 && created.status !== 409)
        throw new Error(`team ${team}: ${await created.text()}`);
      const key = await call(ownerKey, 'POST', '/v1/whetstone/keys', {
        body: JSON.stringify({ team, role }),
        headers: json,
      });
      if (key.status !== 200) throw new Error(`key for ${team}: ${await key.text()}`);
      return ((await key.json()) as { value: string }).value;
    },
    async countRecords() {
      const counts: Record<string, number> = {};
      let start: Record<string, never> | undefined;
      do {
        const page = await dynamodb.send(
          new ScanCommand({ TableName: platform.table, ExclusiveStartKey: start }),
        );
        for (const item of page.Items ?? []) {
          const entity = item.entity?.S ?? 'unknown';
          counts[entity] = (counts[entity] ?? 0) + 1;
        }
        start = page.LastEvaluatedKey as typeof start;
      } while (start);
      return counts;
    },
    async listObjects() {
      const keys: string[] = [];
      let token: string | undefined;
      do {
        const page = await s3.send(
          new ListObjectsV2Command({ Bucket: platform.bucket, ContinuationToken: token }),
        );
        keys.push(...(page.Contents ?? []).map((object) => object.Key ?? ''));
        token = page.NextContinuationToken;
      } while (token);
      return keys;
    },
    async readObject(key) {
      const output = await s3.send(new GetObjectCommand({ Bucket: platform.bucket, Key: key }));
      return (await output.Body?.transformToString()) ?? '';
    },
    async stop() {
      dynamodb.destroy();
      s3.destroy();
      await platform.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A valid chat dataset of `rows` examples, as JSONL. */
export function chatDataset(rows = 10): string {
  return Array.from({ length: rows }, (_, index) =>
    JSON.stringify({
      messages: [
        { role: 'system', content: 'You answer briefly.' },
        { role: 'user', content: `What is ${index} + 1?` },
        { role: 'assistant', content: String(index + 1) },
      ],
    }),
  )
    .map((line) => `${line}\n`)
    .join('');
}

/** A multipart form for `POST /v1/files`. */
export function fileForm(
  content: string | Uint8Array,
  filename = 'train.jsonl',
  purpose = 'fine-tune',
): FormData {
  const form = new FormData();
  form.set('purpose', purpose);
  form.set('file', new Blob([content]), filename);
  return form;
}

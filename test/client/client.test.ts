import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { WhetstoneApiError, WhetstoneClient, WhetstoneConnectionError } from '../../lib/client';
import {
  apiKeySchema,
  auditRecordSchema,
  createdApiKeySchema,
  fileDeletedSchema,
  fileObjectSchema,
  listEnvelopeSchema,
  teamSchema,
} from '../../lib/core/schemas';
import { chatDataset, startTestPlatform, type TestPlatform } from '../helpers/platform';

/** A port nothing listens on: bound by the OS, then let go. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('WhetstoneClient', () => {
  let platform: TestPlatform;
  let owner: WhetstoneClient;
  const encode = (text: string) => new TextEncoder().encode(text);

  beforeAll(async () => {
    platform = await startTestPlatform();
    owner = new WhetstoneClient({ url: platform.url, apiKey: platform.ownerKey });
  });
  afterAll(async () => platform?.stop());

  it('returns teams and keys in the shapes of the schemas', async () => {
    // Act
    const team = await owner.teams.create({ id: 'shapes', name: 'Shapes' });
    const teams = await owner.teams.list({ limit: 1 });
    const key = await owner.keys.create({ team: 'shapes', role: 'admin', name: 'ops' });
    const keys = await owner.keys.list({ team: 'shapes' });
    const revoked = await owner.keys.revoke(key.id, { team: 'shapes' });

    // Assess
    expect(teamSchema.strict().parse(team)).toEqual({
      id: 'shapes',
      object: 'whetstone.team',
      name: 'Shapes',
      created_at: team.created_at,
    });
    expect(listEnvelopeSchema(teamSchema.strict()).strict().parse(teams)).toEqual({
      object: 'list',
      data: [
        {
          id: 'default',
          object: 'whetstone.team',
          name: 'Default team',
          created_at: teams.data[0]?.created_at,
        },
      ],
      first_id: 'default',
      last_id: 'default',
      has_more: true,
    });
    expect(createdApiKeySchema.strict().parse(key)).toMatchObject({
      team: 'shapes',
      role: 'admin',
      name: 'ops',
    });
    expect(
      listEnvelopeSchema(apiKeySchema.strict())
        .strict()
        .parse(keys)
        .data.map((listed) => listed.id),
    ).toEqual([key.id]);
    expect(
      apiKeySchema
        .extend({ deleted: z.literal(true) })
        .strict()
        .parse(revoked),
    ).toMatchObject({
      id: key.id,
      revoked_at: expect.any(Number),
      deleted: true,
    });
  });

  it('uploads, lists, retrieves, downloads and deletes files', async () => {
    // Prepare
    const content = chatDataset(10);

    // Act
    const created = await owner.files.create({
      filename: 'train.jsonl',
      content: encode(content),
      purpose: 'fine-tune',
    });
    const listed = await owner.files.list({ order: 'asc', purpose: 'fine-tune', limit: 5 });
    const retrieved = await owner.files.retrieve(created.id);
    const downloaded = await owner.files.content(created.id);
    const deleted = await owner.files.delete(created.id);

    // Assess
    expect(fileObjectSchema.strict().parse(created)).toMatchObject({
      object: 'file',
      bytes: Buffer.byteLength(content),
      filename: 'train.jsonl',
      purpose: 'fine-tune',
      status: 'processed',
      status_details: null,
    });
    expect(listEnvelopeSchema(fileObjectSchema.strict()).strict().parse(listed).data).toEqual([created]);
    expect(retrieved).toEqual(created);
    expect(new TextDecoder().decode(downloaded)).toBe(content);
    expect(fileDeletedSchema.strict().parse(deleted)).toEqual({
      id: created.id,
      object: 'file',
      deleted: true,
    });
  });

  it('follows the redirect to the presigned URL for content too large to answer inline', async () => {
    // Prepare
    const content = chatDataset(40_000);
    const created = await owner.files.create({
      filename: 'big.jsonl',
      content: encode(content),
      purpose: 'fine-tune',
    });
    const direct = await platform.call(platform.ownerKey, 'GET', `/v1/files/${created.id}/content`);

    // Act
    const downloaded = await owner.files.content(created.id);

    // Assess
    expect(content.length).toBeGreaterThan(4 * 1024 * 1024);
    expect(direct.status).toBe(302);
    expect(downloaded.length).toBe(Buffer.byteLength(content));
    expect(Buffer.from(downloaded).equals(Buffer.from(content))).toBe(true);
  });

  it('reads the audit trail', async () => {
    // Prepare
    await owner.teams.create({ id: 'audited' });

    // Act
    const page = await owner.audit.list({ limit: 1 });

    // Assess
    const records = listEnvelopeSchema(auditRecordSchema.strict()).strict().parse(page);
    expect(records.data.map((record) => [record.action, record.resource_id, record.status_code])).toEqual([
      ['teams.create', 'audited', 200],
    ]);
  });

  it('sends the Idempotency-Key, so a retried create gives the first result', async () => {
    // Act
    const first = await owner.teams.create({ id: 'retried' }, { idempotencyKey: 'create-retried' });
    const retried = await owner.teams.create({ id: 'retried' }, { idempotencyKey: 'create-retried' });
    const unkeyed = owner.teams.create({ id: 'retried' });

    // Assess
    expect(retried).toEqual(first);
    await expect(unkeyed).rejects.toMatchObject({ status: 409, type: 'invalid_request_error' });
  });

  it('turns an error body into a WhetstoneApiError with every field', async () => {
    // Act
    const missing = await owner.files.retrieve('file-nothing').catch((error: unknown) => error);
    const invalid = await owner.teams.create({ id: 'Not A Team' }).catch((error: unknown) => error);
    const refused = await new WhetstoneClient({ url: platform.url, apiKey: 'whet_nope' }).teams
      .list()
      .catch((error: unknown) => error);

    // Assess
    expect(missing).toBeInstanceOf(WhetstoneApiError);
    expect({ ...(missing as WhetstoneApiError), message: (missing as Error).message }).toEqual({
      name: 'WhetstoneApiError',
      status: 404,
      type: 'invalid_request_error',
      code: 'not_found',
      param: 'file_id',
      message: 'No such File object: file-nothing',
    });
    expect(invalid).toMatchObject({ status: 400, type: 'invalid_request_error', param: 'id' });
    expect(refused).toMatchObject({
      status: 401,
      code: 'invalid_api_key',
      param: null,
      message: 'Incorrect or missing API key. Send it as `Authorization: Bearer <key>`.',
    });
  });

  it('names the URL when nothing answers there', async () => {
    // Prepare
    const port = await closedPort();
    const client = new WhetstoneClient({ url: `http://127.0.0.1:${port}/`, apiKey: platform.ownerKey });

    // Act
    const failure = await client.files.list().catch((error: unknown) => error);

    // Assess
    expect(failure).toBeInstanceOf(WhetstoneConnectionError);
    expect((failure as WhetstoneConnectionError).url).toBe(`http://127.0.0.1:${port}/v1/files`);
    expect((failure as Error).message).toBe(
      `Cannot reach Whetstone at http://127.0.0.1:${port}/v1/files: connect ECONNREFUSED 127.0.0.1:${port}. Is the platform running there?`,
    );
  });

  it('reports an answer that is not an API error body by its status and text', async () => {
    // Prepare
    const proxy: Server = createServer((_request, response) => {
      response.writeHead(502, 'Bad Gateway', { 'Content-Type': 'text/html' });
      response.end('<html>\n  <body>upstream   down</body>\n</html>');
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}/prod`;

    // Act
    const failure = await new WhetstoneClient({ url, apiKey: 'whet_any' }).teams
      .list({ after: 'a b' })
      .catch((error: unknown) => error);
    await new Promise<void>((resolve) => proxy.close(() => resolve()));

    // Assess
    expect(failure).toBeInstanceOf(WhetstoneApiError);
    expect(failure).toMatchObject({
      status: 502,
      type: 'api_error',
      code: null,
      param: null,
      message: `GET ${url}/v1/whetstone/teams?after=a+b answered HTTP 502 Bad Gateway: <html> <body>upstream down</body> </html>`,
    });
  });

  it('refuses a URL it cannot use', () => {
    // Act
    const notUrl = () => new WhetstoneClient({ url: 'localhost:8080', apiKey: 'k' });
    const notHttp = () => new WhetstoneClient({ url: 'ftp://example.com', apiKey: 'k' });
    const noKey = () => new WhetstoneClient({ url: 'http://127.0.0.1:8080', apiKey: '' });

    // Assess
    expect(notUrl).toThrow("'localhost:8080' is not an http(s) URL.");
    expect(notHttp).toThrow("'ftp://example.com' is not an http(s) URL.");
    expect(noKey).toThrow('The API key is empty.');
  });
});

import OpenAI, { toFile } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../../../lib/core/ids';
import { chatDataset, startTestPlatform, type TestPlatform } from '../../helpers/platform';

describe('Files API through the official openai SDK', () => {
  let p: TestPlatform;
  let client: OpenAI;

  beforeAll(async () => {
    p = await startTestPlatform();
    // Only the base URL changes from what an app would use against OpenAI itself.
    client = new OpenAI({ baseURL: `${p.url}/v1`, apiKey: p.ownerKey, maxRetries: 0 });
  });
  afterAll(async () => p?.stop());

  it('creates, retrieves, lists, downloads and deletes a file', async () => {
    // Prepare
    const content = chatDataset(10);
    const other = await client.files.create({
      file: await toFile(Buffer.from(chatDataset(11)), 'other.jsonl'),
      purpose: 'fine-tune',
    });

    // Act
    const created = await client.files.create({
      file: await toFile(Buffer.from(content), 'train.jsonl'),
      purpose: 'fine-tune',
    });
    const retrieved = await client.files.retrieve(created.id);
    const listed: string[] = [];
    for await (const file of client.files.list({ limit: 1 })) listed.push(file.id);
    const downloaded = await (await client.files.content(created.id)).text();
    const deleted = await client.files.delete(created.id);
    const remaining: string[] = [];
    for await (const file of client.files.list()) remaining.push(file.id);

    // Assess
    expect(created).toMatchObject({
      object: 'file',
      bytes: Buffer.byteLength(content),
      filename: 'train.jsonl',
      purpose: 'fine-tune',
      status: 'processed',
      status_details: null,
    });
    expect(created.id).toMatch(/^file-/);
    expect(retrieved).toEqual(created);
    // One file a page, so the SDK had to follow `after` from page to page; newest first.
    expect(listed).toEqual([created.id, other.id]);
    expect(downloaded).toBe(content);
    expect(deleted).toEqual({ id: created.id, object: 'file', deleted: true });
    expect(remaining).toEqual([other.id]);
  });

  it('uploads a File object as well', async () => {
    // Prepare
    const content = chatDataset(12);

    // Act
    const created = await client.files.create({
      file: new File([content], 'from-file.jsonl', { type: 'application/jsonl' }),
      purpose: 'fine-tune',
    });

    // Assess
    expect(created).toMatchObject({ filename: 'from-file.jsonl', bytes: Buffer.byteLength(content) });
    expect(await (await client.files.content(created.id)).text()).toBe(content);
  });

  it('raises NotFoundError with status 404 for an unknown file', async () => {
    // Prepare
    const missing = newId('file');

    // Act
    const error = await client.files.retrieve(missing).catch((caught: unknown) => caught);

    // Assess
    expect(error).toBeInstanceOf(OpenAI.NotFoundError);
    const notFound = error as InstanceType<typeof OpenAI.NotFoundError>;
    expect(notFound.status).toBe(404);
    expect(notFound.error).toEqual({
      message: `No such File object: ${missing}`,
      type: 'invalid_request_error',
      param: 'file_id',
      code: 'not_found',
    });
    expect(notFound.code).toBe('not_found');
    expect(notFound.param).toBe('file_id');
  });

  it('raises AuthenticationError with status 401 for a bad key', async () => {
    // Prepare
    const stranger = new OpenAI({ baseURL: `${p.url}/v1`, apiKey: 'sk-not-ours', maxRetries: 0 });

    // Act
    const error = await stranger.files.list().catch((caught: unknown) => caught);

    // Assess
    expect(error).toBeInstanceOf(OpenAI.AuthenticationError);
    expect((error as InstanceType<typeof OpenAI.AuthenticationError>).status).toBe(401);
  });

  it('raises BadRequestError naming the parameter for a bad purpose', async () => {
    // Act
    const error = await client.files
      .create({
        file: await toFile(Buffer.from(chatDataset(10)), 'train.jsonl'),
        purpose: 'assistants',
      })
      .catch((caught: unknown) => caught);

    // Assess
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect((error as InstanceType<typeof OpenAI.BadRequestError>).param).toBe('purpose');
  });
});

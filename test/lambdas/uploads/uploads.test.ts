import { createHash } from 'node:crypto';
import { DynamoDBClient, GetItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import OpenAI, { toFile } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keys as tableKeys } from '../../../lib/adapters';
import type { ErrorBody } from '../../../lib/core/schemas';
import { chatDataset, startTestPlatform, type TestPlatform } from '../../helpers/platform';

const MiB = 1024 * 1024;
const json = { 'Content-Type': 'application/json' };

interface Upload {
  id: string;
  object: string;
  status: string;
  bytes: number;
  filename: string;
  file: { id: string; status: string; bytes: number; whetstone: { validation: { examples: number } } } | null;
}
/** A valid chat dataset of at least `minBytes` bytes. */
function datasetOfAtLeast(minBytes: number): Buffer {
  const row = chatDataset(1);
  return Buffer.from(row.repeat(Math.ceil(minBytes / Buffer.byteLength(row))));
}

describe('Uploads API', () => {
  let platform: TestPlatform;
  let key: string;

  const createUpload = async (bytes: number, filename = 'big.jsonl') => {
    const response = await platform.call(key, 'POST', '/v1/uploads', {
      body: JSON.stringify({ bytes, filename, mime_type: 'application/jsonl', purpose: 'fine-tune' }),
      headers: json,
    });
    expect(response.status).toBe(200);
    return (await response.json()) as Upload;
  };
  const addPart = (uploadId: string, data: Uint8Array, callerKey = key) => {
    const form = new FormData();
    form.set('data', new Blob([data]), 'blob');
    return platform.call(callerKey, 'POST', `/v1/uploads/${uploadId}/parts`, { body: form });
  };
  const complete = (uploadId: string, body: unknown, callerKey = key) =>
    platform.call(callerKey, 'POST', `/v1/uploads/${uploadId}/complete`, {
      body: JSON.stringify(body),
      headers: json,
    });

  beforeAll(async () => {
    platform = await startTestPlatform();
    key = await platform.createTeamKey('uploaders');
  });
  afterAll(async () => platform?.stop());

  it('assembles a 5 MiB part and a final short part into one validated file', async () => {
    // Prepare
    const content = datasetOfAtLeast(5 * MiB + 1000);
    const first = content.subarray(0, 5 * MiB);
    const last = content.subarray(5 * MiB);
    const upload = await createUpload(content.length);

    // Act
    const partA = (await (await addPart(upload.id, first)).json()) as {
      id: string;
      object: string;
      upload_id: string;
    };
    const partB = (await (await addPart(upload.id, last)).json()) as { id: string };
    const completed = await complete(upload.id, { part_ids: [partA.id, partB.id] });

    // Assess
    expect(upload).toMatchObject({ object: 'upload', status: 'pending', bytes: content.length, file: null });
    expect(partA).toMatchObject({ object: 'upload.part', upload_id: upload.id });
    expect(partA.id).toMatch(/^part_/);
    expect(completed.status).toBe(200);
    const body = (await completed.json()) as Upload;
    expect(body.status).toBe('completed');
    expect(body.file).toMatchObject({ status: 'processed', bytes: content.length });
    const fileId = body.file?.id ?? '';
    // Beyond what a Lambda response carries, content is a redirect to a presigned S3 URL.
    const redirect = await platform.call(key, 'GET', `/v1/files/${fileId}/content`);
    expect(redirect.status).toBe(302);
    const stored = await fetch(redirect.headers.get('location') ?? '');
    expect(stored.headers.get('content-disposition')).toBe(
      `attachment; filename="big.jsonl"; filename*=UTF-8''big.jsonl`,
    );
    expect(Buffer.from(await stored.arrayBuffer()).equals(content)).toBe(true);
    expect(await platform.listObjects()).toContain(`files/uploaders/${fileId}`);
  });

  it('refuses a part after a short one, since only the last part may be under 5 MiB', async () => {
    // Prepare
    const upload = await createUpload(200);
    await addPart(upload.id, Buffer.alloc(100, 0x61));

    // Act
    const response = await addPart(upload.id, Buffer.alloc(100, 0x61));

    // Assess
    expect(response.status).toBe(400);
    const body = (await response.json()) as ErrorBody;
    expect(body.error.param).toBe('data');
    expect(body.error.message).toMatch(/must be the last part/);
  });

  it('refuses parts that overflow the declared size, and a completion whose bytes differ', async () => {
    // Prepare
    const upload = await createUpload(50);
    const part = (await (await addPart(upload.id, Buffer.alloc(40, 0x61))).json()) as { id: string };

    // Act
    const overflow = await addPart(upload.id, Buffer.alloc(20, 0x61));
    const short = await complete(upload.id, { part_ids: [part.id] });

    // Assess
    expect(overflow.status).toBe(400);
    expect(((await overflow.json()) as ErrorBody).error.message).toBe(
      'The parts would hold 60 bytes, more than the 50 the upload declared.',
    );
    expect(short.status).toBe(400);
    expect(((await short.json()) as ErrorBody).error).toMatchObject({
      param: 'part_ids',
      code: 'bytes_mismatch',
    });
  });

  it('names unknown and repeated part ids', async () => {
    // Prepare
    const upload = await createUpload(10);
    const part = (await (await addPart(upload.id, Buffer.alloc(5, 0x61))).json()) as { id: string };

    // Act
    const unknown = await complete(upload.id, { part_ids: ['part_01ARZ3NDEKTSV4RRFFQ69G5FAV'] });
    const twice = await complete(upload.id, { part_ids: [part.id, part.id] });

    // Assess
    expect(((await unknown.json()) as ErrorBody).error.message).toBe(
      `part_ids[0]: upload ${upload.id} has no part part_01ARZ3NDEKTSV4RRFFQ69G5FAV.`,
    );
    expect(((await twice.json()) as ErrorBody).error.message).toBe(
      `part_ids[1]: part ${part.id} is listed twice.`,
    );
  });

  it('cancels: later parts and completions are refused, nothing is stored', async () => {
    // Prepare
    const objectsBefore = (await platform.listObjects()).length;
    const upload = await createUpload(10);
    const part = (await (await addPart(upload.id, Buffer.from('0123456789'))).json()) as { id: string };

    // Act
    const cancelled = await platform.call(key, 'POST', `/v1/uploads/${upload.id}/cancel`);
    const lateAdd = await addPart(upload.id, Buffer.from('x'));
    const lateComplete = await complete(upload.id, { part_ids: [part.id] });

    // Assess
    expect(((await cancelled.json()) as Upload).status).toBe('cancelled');
    expect(lateAdd.status).toBe(409);
    expect(((await lateAdd.json()) as ErrorBody).error).toMatchObject({
      param: 'upload_id',
      code: 'upload_cancelled',
    });
    expect(lateComplete.status).toBe(409);
    expect((await platform.listObjects()).length).toBe(objectsBefore);
  });

  it('lets a completion that died be cancelled once its lease has passed, and not before', async () => {
    // Prepare: two uploads left `completing` as by a request that died, one lease still running
    const dynamodb = new DynamoDBClient({ endpoint: platform.platform.dynamodbEndpoint });
    const markCompleting = async (uploadId: string, leaseUntil: number) => {
      const key = tableKeys.upload('uploaders', uploadId);
      await dynamodb.send(
        new UpdateItemCommand({
          TableName: platform.platform.table,
          Key: { PK: { S: key.PK }, SK: { S: key.SK } },
          UpdateExpression: 'SET #status = :completing, completing_until = :lease',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':completing': { S: 'completing' },
            ':lease': { N: String(leaseUntil) },
          },
        }),
      );
    };
    const now = Math.floor(Date.now() / 1000);
    const dead = await createUpload(10);
    const live = await createUpload(10);
    const part = (await (await addPart(dead.id, Buffer.from('0123456789'))).json()) as { id: string };
    await markCompleting(dead.id, now - 1);
    await markCompleting(live.id, now + 600);
    const objectsBefore = await platform.listObjects();
    // As if the dead request had had S3 join the parts before it died.
    const record = await dynamodb.send(
      new GetItemCommand({
        TableName: platform.platform.table,
        Key: {
          PK: { S: tableKeys.upload('uploaders', dead.id).PK },
          SK: { S: tableKeys.upload('uploaders', dead.id).SK },
        },
      }),
    );
    const s3 = new S3Client({ endpoint: platform.platform.s3Endpoint, forcePathStyle: true });
    const joinedKey = `files/uploaders/${record.Item?.file_id?.S}`;
    await s3.send(
      new PutObjectCommand({ Bucket: platform.platform.bucket, Key: joinedKey, Body: '0123456789' }),
    );
    const objectsWithJoined = await platform.listObjects();

    // Act
    const retry = await complete(dead.id, { part_ids: [part.id] });
    const cancelDead = await platform.call(key, 'POST', `/v1/uploads/${dead.id}/cancel`);
    const cancelLive = await platform.call(key, 'POST', `/v1/uploads/${live.id}/cancel`);

    // Assess
    expect(retry.status).toBe(409);
    expect(((await retry.json()) as ErrorBody).error).toMatchObject({
      message: `Upload ${dead.id}'s completion was interrupted; cancel it and upload the file again.`,
      code: 'upload_interrupted',
    });
    expect(cancelDead.status).toBe(200);
    expect(((await cancelDead.json()) as Upload).status).toBe('cancelled');
    expect(cancelLive.status).toBe(409);
    expect(((await cancelLive.json()) as ErrorBody).error.code).toBe('upload_completing');
    expect(objectsWithJoined).toContain(joinedKey);
    expect(await platform.listObjects()).toEqual(objectsBefore);
    dynamodb.destroy();
    s3.destroy();
  });

  it('refuses a second completion of a completed upload', async () => {
    // Prepare
    const content = Buffer.from(chatDataset(10));
    const upload = await createUpload(content.length);
    const part = (await (await addPart(upload.id, content)).json()) as { id: string };
    await complete(upload.id, { part_ids: [part.id] });

    // Act
    const again = await complete(upload.id, { part_ids: [part.id] });

    // Assess
    expect(again.status).toBe(409);
    expect(((await again.json()) as ErrorBody).error.code).toBe('upload_completed');
  });

  it('checks the md5 and keeps nothing when it differs', async () => {
    // Prepare
    const content = Buffer.from(chatDataset(10));
    const upload = await createUpload(content.length);
    const part = (await (await addPart(upload.id, content)).json()) as { id: string };
    const recordsBefore = (await platform.countRecords()).file ?? 0;

    // Act
    const response = await complete(upload.id, { part_ids: [part.id], md5: '0'.repeat(32) });

    // Assess
    expect(response.status).toBe(400);
    const body = (await response.json()) as ErrorBody;
    expect(body.error).toMatchObject({ param: 'md5', code: 'md5_mismatch' });
    expect(body.error.message).toBe(
      `The file's MD5 is ${createHash('md5').update(content).digest('hex')}, not ${'0'.repeat(32)}.`,
    );
    expect((await platform.countRecords()).file ?? 0).toBe(recordsBefore);
    expect((await platform.listObjects()).some((object) => object.includes(upload.id))).toBe(false);
  });

  it("hides one team's uploads from another (404)", async () => {
    // Prepare
    const upload = await createUpload(10);
    const otherKey = await platform.createTeamKey('others');

    // Act
    const add = await addPart(upload.id, Buffer.from('0123456789'), otherKey);
    const done = await complete(upload.id, { part_ids: ['part_01ARZ3NDEKTSV4RRFFQ69G5FAV'] }, otherKey);
    const cancel = await platform.call(otherKey, 'POST', `/v1/uploads/${upload.id}/cancel`);

    // Assess
    expect([add.status, done.status, cancel.status]).toEqual([404, 404, 404]);
    expect(((await cancel.json()) as ErrorBody).error.message).toBe(`No such Upload object: ${upload.id}`);
  });

  it('takes large files through presigned S3 part URLs', async () => {
    // Prepare
    const content = datasetOfAtLeast(5 * MiB + 100);
    const created = await platform.call(key, 'POST', '/v1/whetstone/uploads', {
      body: JSON.stringify({
        bytes: content.length,
        filename: 'huge.jsonl',
        mime_type: 'application/jsonl',
        purpose: 'fine-tune',
        part_bytes: 5 * MiB,
      }),
      headers: json,
    });
    const upload = (await created.json()) as Upload & {
      whetstone: { part_bytes: number; parts: { part_number: number; bytes: number; url: string }[] };
    };

    // Act
    const etags: string[] = [];
    let offset = 0;
    for (const part of upload.whetstone.parts) {
      const put = await fetch(part.url, {
        method: 'PUT',
        body: content.subarray(offset, offset + part.bytes),
      });
      expect(put.status).toBe(200);
      etags.push(put.headers.get('etag') ?? '');
      offset += part.bytes;
    }
    const completed = await platform.call(key, 'POST', `/v1/whetstone/uploads/${upload.id}/complete`, {
      body: JSON.stringify({ parts: etags.map((etag, index) => ({ part_number: index + 1, etag })) }),
      headers: json,
    });

    // Assess
    expect(upload.whetstone.part_bytes).toBe(5 * MiB);
    expect(upload.whetstone.parts.map((part) => part.bytes)).toEqual([5 * MiB, content.length - 5 * MiB]);
    expect(upload.whetstone.parts[0]?.url.startsWith(platform.platform.s3Endpoint)).toBe(true);
    expect(completed.status).toBe(200);
    const body = (await completed.json()) as Upload;
    expect(body.file).toMatchObject({ status: 'processed', bytes: content.length });
  });

  it('answers malformed requests with a 400 naming the field, not a 500', async () => {
    // Prepare
    const upload = await createUpload(10);

    // Act
    const noBoundary = await platform.call(key, 'POST', `/v1/uploads/${upload.id}/parts`, {
      body: 'data',
      headers: { 'Content-Type': 'multipart/form-data; foo=bar' },
    });
    const loneSurrogate = await platform.call(key, 'POST', '/v1/uploads', {
      body: JSON.stringify({
        bytes: 10,
        filename: '\ud800.jsonl',
        mime_type: 'application/jsonl',
        purpose: 'fine-tune',
      }),
      headers: json,
    });

    // Assess
    expect(noBoundary.status).toBe(400);
    expect(((await noBoundary.json()) as ErrorBody).error).toMatchObject({
      message: 'The multipart/form-data body cannot be read: Multipart: Boundary not found.',
      param: 'Content-Type',
    });
    expect(loneSurrogate.status).toBe(400);
    expect(((await loneSurrogate.json()) as ErrorBody).error).toMatchObject({
      message: "Invalid body parameter 'filename': must be well-formed Unicode (no lone surrogates).",
      param: 'filename',
    });
  });

  it('refuses presigned parts that add up to more than declared, without keeping the object', async () => {
    // Prepare
    const objectsBefore = await platform.listObjects();
    const declared = Buffer.from(chatDataset(10));
    const created = await platform.call(key, 'POST', '/v1/whetstone/uploads', {
      body: JSON.stringify({
        bytes: declared.length,
        filename: 'x.jsonl',
        mime_type: 'application/jsonl',
        purpose: 'fine-tune',
      }),
      headers: json,
    });
    const upload = (await created.json()) as Upload & { whetstone: { parts: { url: string }[] } };
    const put = await fetch(upload.whetstone.parts[0]?.url ?? '', {
      method: 'PUT',
      body: Buffer.alloc(3 * MiB, 0x61),
    });

    // Act
    const completed = await platform.call(key, 'POST', `/v1/whetstone/uploads/${upload.id}/complete`, {
      body: JSON.stringify({ parts: [{ part_number: 1, etag: put.headers.get('etag') ?? '' }] }),
      headers: json,
    });

    // Assess
    expect(completed.status).toBe(400);
    expect(((await completed.json()) as ErrorBody).error).toMatchObject({
      message: `The parts hold ${3 * MiB} bytes, but the upload declared ${declared.length}.`,
      code: 'bytes_mismatch',
    });
    expect(await platform.listObjects()).toEqual(objectsBefore);
  });

  it('works with the openai SDK: uploads.create, parts.create, complete and cancel', async () => {
    // Prepare
    const client = new OpenAI({ baseURL: `${platform.url}/v1`, apiKey: key, maxRetries: 0 });
    const content = Buffer.from(chatDataset(12));

    // Act
    const upload = await client.uploads.create({
      bytes: content.length,
      filename: 'sdk.jsonl',
      mime_type: 'application/jsonl',
      purpose: 'fine-tune',
    });
    const part = await client.uploads.parts.create(upload.id, { data: await toFile(content, 'part') });
    const completed = await client.uploads.complete(upload.id, { part_ids: [part.id] });
    const other = await client.uploads.create({
      bytes: 5,
      filename: 'x.jsonl',
      mime_type: 'application/jsonl',
      purpose: 'fine-tune',
    });
    const cancelled = await client.uploads.cancel(other.id);

    // Assess
    expect(completed.status).toBe('completed');
    expect(completed.file?.filename).toBe('sdk.jsonl');
    const file = await client.files.retrieve(completed.file?.id ?? '');
    expect(file.status).toBe('processed');
    expect(cancelled.status).toBe('cancelled');
  });
});

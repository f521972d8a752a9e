import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ErrorBody } from '../../lib/core/schemas';
import { chatDataset, fileForm, startTestPlatform, type TestPlatform } from '../helpers/platform';

/**
 * The platform with its stores failing under it: every failure is a clean 500 in the error
 * shape, and a request that fails halfway leaves nothing behind.
 */
describe('faults in the stores', () => {
  let platform: TestPlatform;
  let fileId: string;
  beforeAll(async () => {
    platform = await startTestPlatform();
    const created = await platform.call(platform.ownerKey, 'POST', '/v1/files', {
      body: fileForm(chatDataset(10)),
    });
    fileId = ((await created.json()) as { id: string }).id;
  });
  afterAll(async () => platform?.stop());

  it('with S3 gone, an upload fails as a 500 and records nothing; metadata reads go on', async () => {
    // Prepare
    const recordsBefore = await platform.countRecords();
    await platform.platform.services.s3.stop();

    // Act
    const upload = await platform.call(platform.ownerKey, 'POST', '/v1/files', {
      body: fileForm(chatDataset(10)),
    });
    const content = await platform.call(platform.ownerKey, 'GET', `/v1/files/${fileId}/content`);
    const metadata = await platform.call(platform.ownerKey, 'GET', `/v1/files/${fileId}`);

    // Assess
    expect(upload.status).toBe(500);
    const body = (await upload.json()) as ErrorBody;
    expect(body.error.type).toBe('server_error');
    expect(body.error.message).toMatch(
      /^The server failed to handle the request; quote request id [0-9a-f-]{36} when reporting it\.$/,
    );
    expect(upload.headers.get('x-request-id')).toBe(
      /request id ([0-9a-f-]{36})/.exec(body.error.message)?.[1],
    );
    expect(content.status).toBe(500);
    expect(metadata.status).toBe(200);
    const recordsAfter = await platform.countRecords();
    expect(recordsAfter.file).toBe(recordsBefore.file);
  });

  it('with DynamoDB gone too, authenticated calls fail as a 500 in the error shape; health still answers', async () => {
    // Prepare
    await platform.platform.services.dynamodb.stop();

    // Act
    const list = await platform.call(platform.ownerKey, 'GET', '/v1/files');
    const health = await platform.call(null, 'GET', '/healthz');

    // Assess
    expect(list.status).toBe(500);
    expect(((await list.json()) as ErrorBody).error).toEqual({
      message: 'The gateway failed to handle the request.',
      type: 'server_error',
      param: null,
      code: 'internal_error',
    });
    expect(health.status).toBe(200);
  });
});

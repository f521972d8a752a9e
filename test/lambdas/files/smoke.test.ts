import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chatDataset, fileForm, startTestPlatform, type TestPlatform } from '../../helpers/platform';

describe('files smoke', () => {
  let platform: TestPlatform;
  beforeAll(async () => {
    platform = await startTestPlatform();
  });
  afterAll(async () => platform?.stop());

  it('uploads a file', async () => {
    const response = await platform.call(platform.ownerKey, 'POST', '/v1/files', {
      body: fileForm(chatDataset()),
    });
    expect(response.status).toBe(200);
    const file = (await response.json()) as { status: string };
    expect(file.status).toBe('processed');
  });
});

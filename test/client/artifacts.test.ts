import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createS3Client, S3ObjectStore } from '../../lib/adapters';
import { jobArtifactSchema, WhetstoneApiError, WhetstoneClient } from '../../lib/client';
import { listEnvelopeSchema } from '../../lib/core/schemas';
import { objectKeys } from '../../lib/core/storage';
import { ensureTinyModel, trainerMetadata, uploadTrainingFile } from '../helpers/jobs';
import { startTestPlatform, type TestPlatform } from '../helpers/platform';

/** A server on a free port answering every request with `answer`; it remembers each request's headers. */
async function fakeServer(
  answer: (path: string) => { status: number; headers?: Record<string, string>; body: string | Buffer },
): Promise<{ url: string; seen: { path: string; headers: IncomingHttpHeaders }[]; server: Server }> {
  const seen: { path: string; headers: IncomingHttpHeaders }[] = [];
  const server = createServer((request, response) => {
    seen.push({ path: request.url ?? '', headers: request.headers });
    const { status, headers = {}, body } = answer(request.url ?? '');
    response.writeHead(status, headers).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen, server };
}

describe('WhetstoneClient job artifacts', () => {
  let platform: TestPlatform;
  let client: WhetstoneClient;
  let jobId: string;
  const servers: Server[] = [];
  const weights = Buffer.from(Array.from({ length: 3001 }, (_, index) => (index * 13) % 256));

  beforeAll(async () => {
    platform = await startTestPlatform();
    await ensureTinyModel(platform);
    const key = await platform.createTeamKey('artisans', 'member');
    client = new WhetstoneClient({ url: platform.url, apiKey: key });
    const job = await client.fineTuning.jobs.create({
      model: 'tiny-llama',
      training_file: await uploadTrainingFile(platform, key),
      metadata: trainerMetadata({ mode: 'fail' }),
    });
    jobId = job.id;
    const objects = new S3ObjectStore(
      createS3Client({ endpoint: platform.platform.s3Endpoint, forcePathStyle: true }),
      platform.platform.bucket,
    );
    const folder = objectKeys.artifacts('artisans', jobId);
    await objects.put(`${folder}adapter/adapter_model.safetensors`, weights, 'application/octet-stream');
    await objects.put(
      `${folder}eval/base vs tuned.jsonl`,
      Buffer.from('{"base":"","tuned":"2"}\n'),
      'text/plain',
    );
  });
  afterAll(async () => {
    for (const server of servers) server.close();
    await platform?.stop();
  });

  it('lists artifacts in the shape of the schema and pages through them by path', async () => {
    // Act
    const first = await client.fineTuning.jobs.listArtifacts(jobId, { limit: 2 });
    const rest = await client.fineTuning.jobs.listArtifacts(jobId, { after: first.last_id ?? '' });

    // Assess
    const strictList = listEnvelopeSchema(jobArtifactSchema.strict()).strict();
    expect(strictList.parse(first).data.map((artifact) => [artifact.path, artifact.bytes])).toEqual([
      ['adapter/adapter_model.safetensors', 3001],
      ['eval/base vs tuned.jsonl', 24],
    ]);
    expect(first.has_more).toBe(true);
    expect(strictList.parse(rest).data.map((artifact) => artifact.path)).toEqual(['spec.json']);
    expect(rest.has_more).toBe(false);
    expect(first.data[1]?.url).toBe(
      `${platform.url}/v1/whetstone/jobs/${jobId}/artifacts/eval/base%20vs%20tuned.jsonl`,
    );
  });

  it('downloads an artifact through the gateway, spaces in its name and all', async () => {
    // Act
    const downloaded = await client.fineTuning.jobs.downloadArtifact(
      jobId,
      'adapter/adapter_model.safetensors',
    );
    const spaced = await client.fineTuning.jobs.downloadArtifact(jobId, 'eval/base vs tuned.jsonl');

    // Assess
    expect(Buffer.from(downloaded).equals(weights)).toBe(true);
    expect(new TextDecoder().decode(spaced)).toBe('{"base":"","tuned":"2"}\n');
  });

  it("rejects with the API's error for a missing artifact, a bad path and another team's job", async () => {
    // Prepare
    const outsider = new WhetstoneClient({
      url: platform.url,
      apiKey: await platform.createTeamKey('outsiders', 'member'),
    });

    // Act
    const missing = await client.fineTuning.jobs
      .downloadArtifact(jobId, 'adapter/optimizer.pt')
      .catch((error: unknown) => error);
    const escaping = await client.fineTuning.jobs
      .downloadArtifact(jobId, 'adapter/../../x/spec.json')
      .catch((error: unknown) => error);
    const foreign = await outsider.fineTuning.jobs.listArtifacts(jobId).catch((error: unknown) => error);
    const empty = await client.fineTuning.jobs.downloadArtifact(jobId, '').catch((error: unknown) => error);

    // Assess
    expect(missing).toBeInstanceOf(WhetstoneApiError);
    expect(missing).toMatchObject({
      status: 404,
      message: `Fine-tuning job ${jobId} has no artifact adapter/optimizer.pt.`,
      param: 'path',
      code: 'not_found',
    });
    expect(escaping).toMatchObject({
      status: 400,
      message: `The artifact path "adapter/../../x/spec.json" is not a path inside the job's folder: it holds a '.' or '..' segment.`,
      param: 'path',
      code: 'invalid_artifact_path',
    });
    expect(foreign).toMatchObject({
      status: 404,
      message: `No fine-tuning job found with id ${jobId}.`,
      param: 'fine_tuning_job_id',
    });
    expect(empty).toEqual(new Error('An artifact path must not be empty.'));
  });

  it('follows a redirect to a presigned URL without sending the API key there', async () => {
    // Prepare
    const storage = await fakeServer(() => ({ status: 200, body: weights }));
    const api = await fakeServer(() => ({
      status: 302,
      headers: { Location: `${storage.url}/bucket/artifacts/t/job/adapter/a.safetensors?X-Amz-Expires=3600` },
      body: '',
    }));
    servers.push(storage.server, api.server);
    const viaApi = new WhetstoneClient({ url: api.url, apiKey: 'whet_secret' });

    // Act
    const downloaded = await viaApi.fineTuning.jobs.downloadArtifact('ftjob-1', 'adapter/a.safetensors');

    // Assess
    expect(Buffer.from(downloaded).equals(weights)).toBe(true);
    expect(api.seen.map((request) => [request.path, request.headers.authorization])).toEqual([
      ['/v1/whetstone/jobs/ftjob-1/artifacts/adapter/a.safetensors', 'Bearer whet_secret'],
    ]);
    expect(storage.seen.map((request) => [request.path, request.headers.authorization])).toEqual([
      ['/bucket/artifacts/t/job/adapter/a.safetensors?X-Amz-Expires=3600', undefined],
    ]);
  });

  it('refuses a listing whose items are not artifacts, naming the field', async () => {
    // Prepare
    const api = await fakeServer(() => ({
      status: 200,
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({
        object: 'list',
        data: [
          {
            object: 'fine_tuning.job.artifact',
            path: 'spec.json',
            bytes: -1,
            created_at: 1,
            url: 'http://x/y',
            expires_at: null,
          },
        ],
        first_id: 'spec.json',
        last_id: 'spec.json',
        has_more: false,
      }),
    }));
    servers.push(api.server);

    // Act
    const refused = await new WhetstoneClient({ url: api.url, apiKey: 'whet_secret' }).fineTuning.jobs
      .listArtifacts('ftjob-1')
      .catch((error: unknown) => error);

    // Assess
    expect(refused).toMatchObject({
      status: 200,
      message: `GET ${api.url}/v1/whetstone/jobs/ftjob-1/artifacts answered with a body that is not a list of fine-tuning job artifacts at data.0.bytes: Too small: expected number to be >=0`,
    });
  });
});

import { request } from 'node:http';
import { posix } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ARTIFACT_URL_SECONDS,
  artifactPathProblem,
  artifactRouteUrl,
  jobArtifactContent,
  listJobArtifacts,
} from '../../../lambdas/jobs/artifact-service';
import type { JobDeps } from '../../../lambdas/jobs/deps';
import { createS3Client, S3ObjectStore } from '../../../lib/adapters';
import { newId } from '../../../lib/core/ids';
import type { ErrorBody } from '../../../lib/core/schemas';
import { objectKeys } from '../../../lib/core/storage';
import { createJob, ensureTinyModel, trainerMetadata, uploadTrainingFile } from '../../helpers/jobs';
import { startTestPlatform, type TestPlatform } from '../../helpers/platform';

interface Artifact {
  object: string;
  path: string;
  bytes: number;
  created_at: number;
  url: string;
  expires_at: number | null;
}
interface ArtifactList {
  object: 'list';
  data: Artifact[];
  first_id: string | null;
  last_id: string | null;
  has_more: boolean;
}

/** Bytes that differ from file to file, so a download of the wrong object cannot pass. */
function bytesOf(length: number, seed: number): Buffer {
  return Buffer.from(Array.from({ length }, (_, index) => (index * 31 + seed * 7) % 251));
}

/** What a finished job leaves besides `spec.json`, which creating it wrote. */
const OUTPUTS: Readonly<Record<string, Buffer>> = {
  'adapter/adapter_config.json': Buffer.from('{"peft_type":"LORA","r":4,"lora_alpha":8}\n'),
  'adapter/adapter_model.safetensors': bytesOf(4099, 1),
  'checkpoints/step-2/adapter_config.json': Buffer.from('{"peft_type":"LORA","r":4}\n'),
  'checkpoints/step-2/adapter_model.safetensors': bytesOf(2050, 2),
  'eval/generations base+tuned.jsonl': Buffer.from('{"prompt":"1 + 1?","base":"","tuned":"2"}\n'),
  'eval/metrics.json': Buffer.from('{"base":{"valid_loss":3.2},"tuned":{"valid_loss":1.1}}\n'),
  'manifest.json': Buffer.from('{"engine_version":"0.1.0"}\n'),
  'metrics.jsonl': Buffer.from('{"step":1,"train_loss":3.1}\n{"step":2,"train_loss":2.4}\n'),
  'result.csv': Buffer.from(
    'step,train_loss,train_accuracy,valid_loss,valid_mean_token_accuracy\n1,3.1,0.2,,\n',
  ),
};

const notFound = (jobId: string): ErrorBody => ({
  error: {
    message: `No fine-tuning job found with id ${jobId}.`,
    type: 'invalid_request_error',
    param: 'fine_tuning_job_id',
    code: 'not_found',
  },
});

const badPath = (path: string, problem: string, param: 'path' | 'after' = 'path'): ErrorBody => ({
  error: {
    message: `${param === 'after' ? 'after' : 'The artifact path'} ${JSON.stringify(path)} is not a path inside the job's folder: ${problem}.`,
    type: 'invalid_request_error',
    param,
    code: 'invalid_artifact_path',
  },
});

describe('job artifacts', () => {
  let p: TestPlatform;
  let objects: S3ObjectStore;
  let key: string;
  let rivalKey: string;
  /** Holds every output, written between `writtenFrom` and `writtenUntil` (Unix seconds). */
  let jobId: string;
  /** Holds only the spec its creation wrote. */
  let freshJobId: string;
  let rivalJobId: string;
  let writtenFrom: number;
  let writtenUntil: number;
  /** Each path's size as the S3 server holds it, spec.json included. */
  let sizes: Record<string, number>;

  const listPath = (job: string, query = '') => `/v1/whetstone/jobs/${job}/artifacts${query}`;
  const list = async (job: string, query = '', caller = key) => {
    const response = await p.call(caller, 'GET', listPath(job, query));
    return { status: response.status, body: (await response.json()) as ArtifactList & ErrorBody };
  };
  const download = (job: string, encodedPath: string, caller: string | null = key) =>
    p.call(caller, 'GET', `/v1/whetstone/jobs/${job}/artifacts/${encodedPath}`);

  async function startJob(caller: string): Promise<string> {
    const response = await createJob(p, caller, {
      model: 'tiny-llama',
      training_file: await uploadTrainingFile(p, caller),
      metadata: trainerMetadata({ mode: 'fail' }),
    });
    expect(response.status).toBe(200);
    return ((await response.json()) as { id: string }).id;
  }

  beforeAll(async () => {
    p = await startTestPlatform();
    await ensureTinyModel(p);
    objects = new S3ObjectStore(
      createS3Client({ endpoint: p.platform.s3Endpoint, forcePathStyle: true }),
      p.platform.bucket,
    );
    key = await p.createTeamKey('acme', 'member');
    rivalKey = await p.createTeamKey('rivals', 'member');
    [jobId, freshJobId, rivalJobId] = await Promise.all([startJob(key), startJob(key), startJob(rivalKey)]);

    writtenFrom = Math.floor(Date.now() / 1000);
    const folder = objectKeys.artifacts('acme', jobId);
    await Promise.all(
      Object.entries(OUTPUTS).map(([path, body]) =>
        objects.put(`${folder}${path}`, body, 'application/octet-stream'),
      ),
    );
    // A folder marker, as some S3 tools write, and a neighbour whose id starts with this job's.
    await objects.put(`${folder}eval/`, Buffer.alloc(0), 'application/x-directory');
    await objects.put(`artifacts/acme/${jobId}0/spec.json`, Buffer.from('{}'), 'application/json');
    writtenUntil = Math.ceil(Date.now() / 1000);
    sizes = Object.fromEntries(
      (await objects.list(folder)).map((object) => [object.key.slice(folder.length), object.bytes]),
    );
  });
  afterAll(async () => p?.stop());

  describe('GET /v1/whetstone/jobs/{fine_tuning_job_id}/artifacts', () => {
    it("lists every object in the job's folder in path order, with sizes, times and gateway URLs", async () => {
      // Prepare
      const specBytes = Buffer.byteLength(await p.readObject(objectKeys.jobSpec('acme', jobId)));
      const paths = [...Object.keys(OUTPUTS), 'spec.json'].sort();

      // Act
      const { status, body } = await list(jobId, '?limit=100');

      // Assess
      expect(status).toBe(200);
      expect(body).toEqual({
        object: 'list',
        data: paths.map((path) => ({
          object: 'fine_tuning.job.artifact',
          path,
          bytes: path === 'spec.json' ? specBytes : OUTPUTS[path]?.length,
          created_at: expect.any(Number),
          url: `${p.url}/v1/whetstone/jobs/${jobId}/artifacts/${path.split('/').map(encodeURIComponent).join('/')}`,
          expires_at: null,
        })),
        first_id: 'adapter/adapter_config.json',
        last_id: 'spec.json',
        has_more: false,
      });
      expect(body.data.map((artifact) => artifact.bytes)).toEqual(paths.map((path) => sizes[path]));
      expect(body.data.find((artifact) => artifact.path === 'eval/generations base+tuned.jsonl')?.url).toBe(
        `${p.url}/v1/whetstone/jobs/${jobId}/artifacts/eval/generations%20base%2Btuned.jsonl`,
      );
      for (const artifact of body.data.filter((item) => item.path !== 'spec.json')) {
        expect(artifact.created_at).toBeGreaterThanOrEqual(writtenFrom - 1);
        expect(artifact.created_at).toBeLessThanOrEqual(writtenUntil);
      }
    });

    it('pages by path: limit, then after = last_id, until has_more is false', async () => {
      // Prepare
      const all = (await list(jobId, '?limit=100')).body.data.map((artifact) => artifact.path);
      const pages: ArtifactList[] = [];

      // Act
      let after: string | null = null;
      do {
        const query: string = `?limit=4${after === null ? '' : `&after=${encodeURIComponent(after)}`}`;
        const { status, body } = await list(jobId, query);
        expect(status).toBe(200);
        pages.push(body);
        after = body.has_more ? body.last_id : null;
      } while (after !== null);
      const between = await list(jobId, `?limit=2&after=${encodeURIComponent('checkpoints/')}`);
      const pastTheEnd = await list(jobId, '?after=spec.json');
      const byDefault = await list(jobId);

      // Assess
      expect(all).toHaveLength(10);
      expect(pages.map((page) => page.data.map((artifact) => artifact.path))).toEqual([
        all.slice(0, 4),
        all.slice(4, 8),
        all.slice(8),
      ]);
      expect(pages.map((page) => [page.first_id, page.last_id, page.has_more])).toEqual([
        [all[0], all[3], true],
        [all[4], all[7], true],
        [all[8], all[9], false],
      ]);
      expect(between.body.data.map((artifact) => artifact.path)).toEqual([
        'checkpoints/step-2/adapter_config.json',
        'checkpoints/step-2/adapter_model.safetensors',
      ]);
      expect(between.body.has_more).toBe(true);
      expect(pastTheEnd.body).toEqual({
        object: 'list',
        data: [],
        first_id: null,
        last_id: null,
        has_more: false,
      });
      // Ten artifacts fit the default page of twenty.
      expect(byDefault.body.data).toHaveLength(10);
    });

    it('lists only the spec of a job that has written nothing, and nothing once that is gone', async () => {
      // Act
      const fresh = await list(freshJobId);
      await objects.delete(objectKeys.jobSpec('acme', freshJobId));
      const emptied = await list(freshJobId);

      // Assess
      expect(fresh.status).toBe(200);
      expect(fresh.body.data.map((artifact) => artifact.path)).toEqual(['spec.json']);
      expect(emptied.status).toBe(200);
      expect(emptied.body).toEqual({
        object: 'list',
        data: [],
        first_id: null,
        last_id: null,
        has_more: false,
      });
    });

    it("answers another team's job exactly as one that never existed: 404", async () => {
      // Prepare
      const neverCreated = newId('job');

      // Act
      const foreign = await list(rivalJobId);
      const missing = await list(neverCreated);
      const notAnId = await list('spec.json');
      const ownListStillWorks = await list(rivalJobId, '', rivalKey);

      // Assess
      expect([foreign.status, missing.status, notAnId.status]).toEqual([404, 404, 404]);
      expect(foreign.body).toEqual(notFound(rivalJobId));
      expect(missing.body).toEqual(notFound(neverCreated));
      expect(notAnId.body).toEqual(notFound('spec.json'));
      expect(ownListStillWorks.body.data.map((artifact) => artifact.path)).toEqual(['spec.json']);
    });

    it('refuses a bad after, limit or unknown parameter by name', async () => {
      // Act
      const escaping = await list(jobId, `?after=${encodeURIComponent('../other/spec.json')}`);
      const absolute = await list(jobId, `?after=${encodeURIComponent('/spec.json')}`);
      const tooMany = await list(jobId, '?limit=101');
      const unknown = await list(jobId, '?order=desc');

      // Assess
      expect(escaping.status).toBe(400);
      expect(escaping.body).toEqual(badPath('../other/spec.json', "it holds a '.' or '..' segment", 'after'));
      expect(absolute.body).toEqual(
        badPath('/spec.json', "it must be relative to the job's folder, not start with '/'", 'after'),
      );
      expect(tooMany.status).toBe(400);
      expect(tooMany.body.error.param).toBe('limit');
      expect(unknown.body.error).toEqual({
        message: "Unrecognized query parameter: 'order'.",
        type: 'invalid_request_error',
        param: 'order',
        code: 'unknown_parameter',
      });
    });
  });

  describe('GET /v1/whetstone/jobs/{fine_tuning_job_id}/artifacts/{path+}', () => {
    it('serves each listed URL through the gateway with the key: the exact bytes, as an attachment', async () => {
      // Prepare
      const listed = (await list(jobId, '?limit=100')).body.data;
      const spec = Buffer.from(await p.readObject(objectKeys.jobSpec('acme', jobId)));

      for (const artifact of listed) {
        // Act
        const response = await fetch(artifact.url, { headers: { Authorization: `Bearer ${key}` } });

        // Assess
        expect({ path: artifact.path, status: response.status }).toEqual({
          path: artifact.path,
          status: 200,
        });
        const body = Buffer.from(await response.arrayBuffer());
        expect(body.equals(OUTPUTS[artifact.path] ?? spec)).toBe(true);
        expect(body.length).toBe(artifact.bytes);
        const name = artifact.path.slice(artifact.path.lastIndexOf('/') + 1);
        expect(response.headers.get('content-disposition')).toContain(
          `filename*=UTF-8''${encodeURIComponent(name)}`,
        );
      }
    });

    it('refuses a download without a key, with another team key, or of an artifact that is not there', async () => {
      // Act
      const anonymous = await download(jobId, 'adapter/adapter_model.safetensors', null);
      const rival = await download(jobId, 'adapter/adapter_model.safetensors', rivalKey);
      const absent = await download(jobId, 'adapter/optimizer.pt');
      const marker = await download(jobId, 'eval');

      // Assess
      expect(anonymous.status).toBe(401);
      expect(await anonymous.json()).toEqual({
        error: {
          message: 'Incorrect or missing API key. Send it as `Authorization: Bearer <key>`.',
          type: 'invalid_request_error',
          param: null,
          code: 'invalid_api_key',
        },
      });
      expect(rival.status).toBe(404);
      expect(await rival.json()).toEqual(notFound(jobId));
      for (const [response, path] of [
        [absent, 'adapter/optimizer.pt'],
        [marker, 'eval'],
      ] as const) {
        expect(response.status).toBe(404);
        expect(await response.json()).toEqual({
          error: {
            message: `Fine-tuning job ${jobId} has no artifact ${path}.`,
            type: 'invalid_request_error',
            param: 'path',
            code: 'not_found',
          },
        });
      }
    });

    it('refuses every path that could leave the job folder, naming the problem', async () => {
      // Prepare: as sent in the URL, as the handler sees it once decoded, and why it is refused.
      const cases: readonly (readonly [string, string, string])[] = [
        [`..%2F${freshJobId}%2Fspec.json`, `../${freshJobId}/spec.json`, "it holds a '.' or '..' segment"],
        [
          `adapter%2F..%2F..%2F..%2Frivals%2F${rivalJobId}%2Fspec.json`,
          `adapter/../../../rivals/${rivalJobId}/spec.json`,
          "it holds a '.' or '..' segment",
        ],
        ['%2e%2e%2Fspec.json', '../spec.json', "it holds a '.' or '..' segment"],
        ['.%2Fspec.json', './spec.json', "it holds a '.' or '..' segment"],
        ['%2Fetc%2Fpasswd', '/etc/passwd', "it must be relative to the job's folder, not start with '/'"],
        [
          'adapter%5C..%5C..%5Cspec.json',
          'adapter\\..\\..\\spec.json',
          "folders are separated by '/', not '\\'",
        ],
        [
          '%252e%252e%2Fspec.json',
          '%2e%2e/spec.json',
          "it holds '%': the path is percent-decoded once, from the URL",
        ],
        ['spec.json%00', 'spec.json\u0000', 'it holds a control character'],
        [
          'adapter//adapter_config.json',
          'adapter//adapter_config.json',
          "it holds an empty segment ('//' or a trailing '/')",
        ],
        ['adapter%2F', 'adapter/', "it holds an empty segment ('//' or a trailing '/')"],
        ['x'.repeat(901), 'x'.repeat(901), 'it is longer than 900 characters'],
      ];

      for (const [sent, decoded, problem] of cases) {
        // Act
        const response = await download(jobId, sent);

        // Assess
        expect({ sent, status: response.status }).toEqual({ sent, status: 400 });
        expect(await response.json()).toEqual(badPath(decoded, problem));
      }
    });

    it("resolves a raw '..' in the URL before routing, so it reaches only a route the key may call anyway", async () => {
      // Act: a raw request, since fetch would resolve the dots itself.
      const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const url = new URL(p.url);
        const call = request(
          {
            host: url.hostname,
            port: url.port,
            method: 'GET',
            path: `/v1/whetstone/jobs/${jobId}/artifacts/adapter/../../../${rivalJobId}/artifacts/spec.json`,
            headers: { Authorization: `Bearer ${key}` },
          },
          (response) => {
            let body = '';
            response.setEncoding('utf8').on('data', (chunk: string) => {
              body += chunk;
            });
            response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
          },
        );
        call.on('error', reject);
        call.end();
      });

      // Assess
      expect(answer.status).toBe(404);
      expect(JSON.parse(answer.body)).toEqual(notFound(rivalJobId));
    });

    it('answers a fuzzed path with 400, 404 or the very object it names, never anything else', async () => {
      // Prepare: pieces that make traversal, encoding and separator tricks likely.
      const piece = fc.constantFrom(
        '.',
        '..',
        '/',
        '%2F',
        '%2f',
        '%2e',
        '%252e',
        '%5C',
        '\\',
        '%00',
        '%20',
        'adapter',
        'adapter_model.safetensors',
        'spec.json',
        'rivals',
        rivalJobId,
        '%',
        'é',
      );
      const held = new Map(Object.entries(OUTPUTS));
      held.set('spec.json', Buffer.from(await p.readObject(objectKeys.jobSpec('acme', jobId))));

      const downloadPrefix = `/v1/whetstone/jobs/${jobId}/artifacts/`;

      await fc.assert(
        fc.asyncProperty(fc.array(piece, { minLength: 1, maxLength: 8 }), async (pieces) => {
          const sent = pieces.join('');
          // Where the URL lands once its dot segments are resolved, as fetch and the gateway both do.
          const landed = new URL(`${downloadPrefix}${sent}`, p.url).pathname;

          // Act
          const response = await download(jobId, sent);

          // Assess
          const body = Buffer.from(await response.arrayBuffer());
          if (response.status === 200) {
            if (landed.startsWith(downloadPrefix)) {
              const decoded = decodeURIComponent(landed.slice(downloadPrefix.length));
              expect(held.get(decoded)?.equals(body)).toBe(true);
            } else {
              // Dots that climb out of the folder reach the job's own listing at most.
              expect(landed).toBe(`/v1/whetstone/jobs/${jobId}/artifacts`);
            }
            return;
          }
          expect([400, 404]).toContain(response.status);
          const error = (JSON.parse(body.toString('utf8')) as ErrorBody).error;
          if (response.status === 400) {
            expect(['invalid_artifact_path', 'invalid_path']).toContain(error.code);
          }
        }),
        { numRuns: 80, seed: 20_260_601 },
      );
    });
  });

  describe('AWS mode: presigned S3 URLs', () => {
    const NOW = Date.UTC(2026, 0, 31, 12, 0, 0);
    let deps: Pick<JobDeps, 'stores'> & { now: () => number };

    beforeAll(async () => {
      // The handlers' own stores, loaded by the platform with the local endpoints.
      const { stores } = await import('../../../lambdas/runtime/dependencies');
      deps = { stores, now: () => NOW };
    });

    it('lists presigned GETs that expire in an hour and fetch the exact bytes', async () => {
      // Act
      const page = await listJobArtifacts(
        deps,
        'acme',
        jobId,
        { limit: 2, after: 'adapter/adapter_config.json' },
        { kind: 'presigned', expiresInSeconds: ARTIFACT_URL_SECONDS },
      );

      // Assess
      expect(page.data.map((artifact) => [artifact.path, artifact.expires_at])).toEqual([
        ['adapter/adapter_model.safetensors', NOW / 1000 + 3600],
        ['checkpoints/step-2/adapter_config.json', NOW / 1000 + 3600],
      ]);
      const first = page.data[0];
      if (!first) throw new Error('no first artifact');
      const url = new URL(first.url);
      expect(url.origin).toBe(p.platform.s3Endpoint);
      expect(url.pathname).toBe(
        `/${p.platform.bucket}/artifacts/acme/${jobId}/adapter/adapter_model.safetensors`,
      );
      expect(url.searchParams.get('X-Amz-Expires')).toBe('3600');
      expect(url.searchParams.get('X-Amz-Algorithm')).toBe('AWS4-HMAC-SHA256');
      expect(url.searchParams.get('X-Amz-Signature')).toMatch(/^[0-9a-f]{64}$/);
      expect(url.searchParams.get('response-content-disposition')).toBe(
        `attachment; filename="adapter_model.safetensors"; filename*=UTF-8''adapter_model.safetensors`,
      );
      // A presigned URL carries its own signature: no API key goes with it.
      const fetched = Buffer.from(await (await fetch(first.url)).arrayBuffer());
      expect(fetched.equals(OUTPUTS['adapter/adapter_model.safetensors'] ?? Buffer.alloc(0))).toBe(true);
    });

    it("signs for the deployment's bucket by virtual host, as in a region of AWS", async () => {
      // Prepare: listing reads the local server; signing is done offline for a bucket in eu-west-1.
      const awsSigner = new S3ObjectStore(
        new S3Client({
          region: 'eu-west-1',
          // The platform points the SDK at the local server through AWS_ENDPOINT_URL_S3.
          endpoint: 'https://s3.eu-west-1.amazonaws.com',
          credentials: {
            accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
            secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
          },
        }),
        'whetstone-data',
      );
      const hybrid = Object.assign(Object.create(deps.stores.objects) as S3ObjectStore, {
        presignGet: awsSigner.presignGet.bind(awsSigner),
      });

      // Act
      const page = await listJobArtifacts(
        { ...deps, stores: { ...deps.stores, objects: hybrid } },
        'acme',
        jobId,
        { limit: 1, after: 'eval/' },
        { kind: 'presigned', expiresInSeconds: ARTIFACT_URL_SECONDS },
      );

      // Assess
      const url = new URL(page.data[0]?.url ?? '');
      expect(url.host).toBe('whetstone-data.s3.eu-west-1.amazonaws.com');
      expect(url.protocol).toBe('https:');
      expect(url.pathname).toBe(`/artifacts/acme/${jobId}/eval/generations%20base%2Btuned.jsonl`);
      expect(url.searchParams.get('X-Amz-Expires')).toBe('3600');
      expect(url.searchParams.get('X-Amz-Credential')).toMatch(
        /^AKIAIOSFODNN7EXAMPLE\/\d{8}\/eu-west-1\/s3\/aws4_request$/,
      );
      expect(url.searchParams.get('X-Amz-SignedHeaders')).toBe('host');
      expect(url.searchParams.get('response-content-disposition')).toBe(
        `attachment; filename="generations base+tuned.jsonl"; filename*=UTF-8''generations%20base%2Btuned.jsonl`,
      );
    });

    it('answers a download with a redirect to a presigned GET, and 404 for a missing artifact or job', async () => {
      // Act
      const content = await jobArtifactContent(deps, 'acme', jobId, 'result.csv', {
        kind: 'presigned',
        expiresInSeconds: ARTIFACT_URL_SECONDS,
      });
      const missing = await jobArtifactContent(deps, 'acme', jobId, 'eval/missing.json', {
        kind: 'presigned',
        expiresInSeconds: ARTIFACT_URL_SECONDS,
      }).catch((error: unknown) => error);
      const foreign = await jobArtifactContent(deps, 'acme', rivalJobId, 'spec.json', {
        kind: 'presigned',
        expiresInSeconds: ARTIFACT_URL_SECONDS,
      }).catch((error: unknown) => error);

      // Assess
      expect(content.kind).toBe('redirect');
      const url = content.kind === 'redirect' ? content.url : '';
      expect(new URL(url).pathname).toBe(`/${p.platform.bucket}/artifacts/acme/${jobId}/result.csv`);
      expect(
        Buffer.from(await (await fetch(url)).arrayBuffer()).equals(OUTPUTS['result.csv'] ?? Buffer.alloc(0)),
      ).toBe(true);
      expect(missing).toMatchObject({
        statusCode: 404,
        message: `Fine-tuning job ${jobId} has no artifact eval/missing.json.`,
        param: 'path',
      });
      expect(foreign).toMatchObject({
        statusCode: 404,
        message: `No fine-tuning job found with id ${rivalJobId}.`,
        param: 'fine_tuning_job_id',
      });
    });
  });

  describe('artifactPathProblem', () => {
    const base = 'http://127.0.0.1:8080';
    const routePrefix = `/v1/whetstone/jobs/${'job_01JZ0000000000000000000000'}/artifacts/`;
    const anyPath = fc
      .array(
        fc.oneof(
          fc.constantFrom('.', '..', '/', '\\', '%', '%2e', '%2F', '\u0000', ' ', '?', '#', 'é', '😀'),
          fc.string({ unit: 'grapheme', maxLength: 6 }),
        ),
        { maxLength: 10 },
      )
      .map((pieces) => pieces.join(''));

    it('accepts only paths that neither path nor URL resolution can move out of the folder', () => {
      fc.assert(
        fc.property(anyPath, (path) => {
          // Act
          const problem = artifactPathProblem(path);

          // Assess
          if (problem !== undefined) return;
          const prefix = 'artifacts/acme/job_1/';
          expect(posix.normalize(`${prefix}${path}`)).toBe(`${prefix}${path}`);
          const routed = new URL(artifactRouteUrl(base, 'job_01JZ0000000000000000000000', path)).pathname;
          expect(routed.startsWith(routePrefix)).toBe(true);
          expect(decodeURIComponent(routed.slice(routePrefix.length))).toBe(path);
        }),
        { numRuns: 2000, seed: 6 },
      );
    });

    it('accepts the paths the trainer writes', () => {
      // Act
      const problems = [
        ...Object.keys(OUTPUTS),
        'spec.json',
        'checkpoints/step-120/optimizer.safetensors',
      ].map(artifactPathProblem);

      // Assess
      expect(problems.every((problem) => problem === undefined)).toBe(true);
    });
  });
});

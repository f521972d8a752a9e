import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createS3Client, S3ObjectStore } from '../../../lib/adapters';
import { WhetstoneClient } from '../../../lib/client';
import { objectKeys } from '../../../lib/core/storage';
import { ensureTinyModel, trainerMetadata, uploadTrainingFile } from '../../helpers/jobs';
import { startTestPlatform, type TestPlatform } from '../../helpers/platform';
import { isolatedEnv, tableOf, whet } from '../whet';

const OUTPUTS: Readonly<Record<string, Buffer>> = {
  'adapter/adapter_config.json': Buffer.from('{"peft_type":"LORA","r":4}\n'),
  'adapter/adapter_model.safetensors': Buffer.from(Array.from({ length: 1500 }, (_, index) => index % 256)),
  'result.csv': Buffer.from('step,train_loss,train_accuracy,valid_loss,valid_mean_token_accuracy\n'),
};

describe('whet jobs artifacts and whet jobs download', () => {
  let platform: TestPlatform;
  let scratch: string;
  let env: Record<string, string>;
  let jobId: string;
  let spec: Buffer;

  beforeAll(async () => {
    platform = await startTestPlatform();
    await ensureTinyModel(platform);
    scratch = mkdtempSync(join(tmpdir(), 'whetstone-cli-artifacts-'));
    const key = await platform.createTeamKey('downloaders', 'member');
    env = { ...isolatedEnv(scratch), WHETSTONE_URL: platform.url, WHETSTONE_API_KEY: key };
    const client = new WhetstoneClient({ url: platform.url, apiKey: key });
    jobId = (
      await client.fineTuning.jobs.create({
        model: 'tiny-llama',
        training_file: await uploadTrainingFile(platform, key),
        metadata: trainerMetadata({ mode: 'fail' }),
      })
    ).id;
    const objects = new S3ObjectStore(
      createS3Client({ endpoint: platform.platform.s3Endpoint, forcePathStyle: true }),
      platform.platform.bucket,
    );
    const folder = objectKeys.artifacts('downloaders', jobId);
    await Promise.all(
      Object.entries(OUTPUTS).map(([path, body]) => objects.put(`${folder}${path}`, body, 'text/plain')),
    );
    spec = Buffer.from(await platform.readObject(objectKeys.jobSpec('downloaders', jobId)));
  });
  afterAll(async () => {
    await platform?.stop();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  const urlOf = (path: string) => `${platform.url}/v1/whetstone/jobs/${jobId}/artifacts/${path}`;

  it('prints a table of path, size and URL, and says how to get the next page', {
    timeout: 60_000,
  }, async () => {
    // Act
    const all = await whet(['jobs', 'artifacts', jobId], env);
    const paged = await whet(['jobs', 'artifacts', jobId, '--limit', '1', '--after', 'adapter/'], env);

    // Assess
    expect(all.stderr).toBe('');
    expect(all.code).toBe(0);
    expect(tableOf(all.stdout)).toEqual([
      ['PATH', 'BYTES', 'URL'],
      ['adapter/adapter_config.json', '27', urlOf('adapter/adapter_config.json')],
      ['adapter/adapter_model.safetensors', '1500', urlOf('adapter/adapter_model.safetensors')],
      ['result.csv', '68', urlOf('result.csv')],
      ['spec.json', String(spec.length), urlOf('spec.json')],
    ]);
    expect(tableOf(paged.stdout)).toEqual([
      ['PATH', 'BYTES', 'URL'],
      ['adapter/adapter_config.json', '27', urlOf('adapter/adapter_config.json')],
      [`(more: whet jobs artifacts ${jobId} --after adapter/adapter_config.json)`],
    ]);
  });

  it('downloads a folder, or everything, to OUT/<path> with the exact bytes', {
    timeout: 60_000,
  }, async () => {
    // Prepare
    const adapterOut = join(scratch, 'adapter-only');
    const everythingOut = join(scratch, 'everything');

    // Act
    const adapter = await whet(['jobs', 'download', jobId, 'adapter', '--out', adapterOut], env);
    const everything = await whet(['jobs', 'download', jobId, '--out', everythingOut, '--json'], env);

    // Assess
    expect([adapter.code, adapter.stderr]).toEqual([0, '']);
    expect(adapter.stdout.trimEnd().split('\n')).toEqual([
      'adapter/adapter_config.json  27 bytes',
      'adapter/adapter_model.safetensors  1500 bytes',
      `Downloaded 2 artifacts (1527 bytes) to ${adapterOut}.`,
    ]);
    expect(readdirSync(adapterOut)).toEqual(['adapter']);
    expect(readdirSync(join(adapterOut, 'adapter')).sort()).toEqual([
      'adapter_config.json',
      'adapter_model.safetensors',
    ]);
    expect(
      readFileSync(join(adapterOut, 'adapter', 'adapter_model.safetensors')).equals(
        OUTPUTS['adapter/adapter_model.safetensors'] ?? Buffer.alloc(0),
      ),
    ).toBe(true);
    expect(everything.code).toBe(0);
    expect(JSON.parse(everything.stdout)).toEqual(
      [...Object.keys(OUTPUTS), 'spec.json'].map((path) => ({
        path,
        file: join(everythingOut, path),
        bytes: path === 'spec.json' ? spec.length : OUTPUTS[path]?.length,
      })),
    );
    expect(readFileSync(join(everythingOut, 'spec.json')).equals(spec)).toBe(true);
    expect(
      readFileSync(join(everythingOut, 'result.csv')).equals(OUTPUTS['result.csv'] ?? Buffer.alloc(0)),
    ).toBe(true);
  });

  it('fails with one line for a path the job does not hold and for a job that is not there', {
    timeout: 60_000,
  }, async () => {
    // Act
    const absent = await whet(['jobs', 'download', jobId, 'eval', '--out', join(scratch, 'none')], env);
    const noJob = await whet(['jobs', 'artifacts', 'ftjob-nothing'], env);

    // Assess
    expect([absent.code, absent.stdout, absent.stderr]).toEqual([
      1,
      '',
      `error: Job ${jobId} has no artifact eval and no folder of that name.\n`,
    ]);
    expect([noJob.code, noJob.stdout, noJob.stderr]).toEqual([
      1,
      '',
      'error: No fine-tuning job found with id ftjob-nothing. (param: fine_tuning_job_id)\n',
    ]);
  });
});

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerLocalBaseModel } from '../../lib/local/base-models';
import { type Platform, startPlatform } from '../../lib/local/platform';
import { tinyLlamaFiles } from '../helpers/models';

/**
 * Base models on this machine registered at start: uploaded to `models/{id}/` and registered
 * through the models service, once. The platform runs in this worker, so the stores the
 * handlers use are the ones checked here.
 */
describe('registerLocalBaseModel', () => {
  const root = mkdtempSync(join(tmpdir(), 'whetstone-base-models-'));
  const modelDir = join(root, 'tiny');
  const emptyDir = join(root, 'empty');
  const files = tinyLlamaFiles();
  let platform: Platform;
  let apiKey: string;

  beforeAll(async () => {
    mkdirSync(modelDir);
    mkdirSync(emptyDir);
    for (const [name, body] of Object.entries(files)) writeFileSync(join(modelDir, name), body);
    writeFileSync(join(modelDir, 'notes.txt'), 'not a model file');
    platform = await startPlatform({
      dataDir: join(root, 'data'),
      port: 0,
      baseModels: [
        { id: 'tiny-local', dir: modelDir },
        { id: 'not-here', dir: emptyDir },
      ],
    });
    apiKey = platform.createdOwnerKey ?? '';
  });
  afterAll(async () => {
    await platform?.stop();
    rmSync(root, { recursive: true, force: true });
  });

  it('registers the model at start, so GET /v1/models lists it, and skips a directory without config.json', async () => {
    // Act
    const response = await fetch(`${platform.url}/v1/models`, {
      headers: { Authorization: `Bearer ${apiKey}` },
    });

    // Assess
    expect(response.status).toBe(200);
    const list = (await response.json()) as { data: { id: string; owned_by: string; whetstone: unknown }[] };
    expect(list.data.map((model) => model.id)).toEqual(['tiny-local']);
    expect(list.data[0]).toMatchObject({
      owned_by: 'whetstone',
      whetstone: { kind: 'base', architecture: 'LlamaForCausalLM', base_model: null, job_id: null },
    });
  });

  it("uploads the model's files, byte for byte, and nothing else", async () => {
    // Prepare
    const { stores } = await import('../../lambdas/runtime/dependencies');

    // Act
    const listed = await stores.objects.list('models/');
    const config = await stores.objects.get('models/tiny-local/config.json');

    // Assess
    expect(listed.map((object) => [object.key, object.bytes])).toEqual(
      Object.entries(files)
        .map(([name, body]) => [`models/tiny-local/${name}`, body.length])
        .sort(),
    );
    const chunks: Buffer[] = [];
    for await (const chunk of config?.stream ?? []) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks).equals(files['config.json'] as Buffer)).toBe(true);
  });

  it('leaves a registered model as it is, as on a restart', async () => {
    // Prepare
    const { stores } = await import('../../lambdas/runtime/dependencies');
    const before = await stores.models.getBase('tiny-local');
    writeFileSync(join(modelDir, 'config.json'), JSON.stringify({ architectures: ['Changed'] }));

    // Act
    const outcome = await registerLocalBaseModel({ id: 'tiny-local', dir: modelDir }, Date.now() + 60_000);

    // Assess
    expect(outcome).toBe('already registered');
    expect(await stores.models.getBase('tiny-local')).toEqual(before);
    expect(await stores.objects.size('models/tiny-local/config.json')).toBe(files['config.json']?.length);
  });

  it("refuses a model the trainer could not load, with the service's message", async () => {
    // Prepare
    const badDir = join(root, 'bad');
    mkdirSync(badDir);
    writeFileSync(join(badDir, 'config.json'), JSON.stringify({ architectures: ['GPT2LMHeadModel'] }));
    writeFileSync(join(badDir, 'model.safetensors'), files['model.safetensors'] as Buffer);

    // Act
    const failure = await registerLocalBaseModel({ id: 'bad', dir: badDir }, Date.now()).catch(
      (error: unknown) => error,
    );

    // Assess
    expect((failure as Error).message).toBe(
      "models/bad/config.json: architectures[0] 'GPT2LMHeadModel' is not supported; supported: " +
        'LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM.',
    );
  });
});

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatTime } from '../../../lib/cli/output';
import { WhetstoneClient } from '../../../lib/client';
import type { ModelObject } from '../../../lib/core/schemas';
import { objectKeys } from '../../../lib/core/storage';
import {
  ensureTinyModel,
  hasStatus,
  trainerMetadata,
  uploadTrainingFile,
  waitForJob,
} from '../../helpers/jobs';
import { tinyLlamaFiles, uploadModelFiles } from '../../helpers/models';
import { startTestPlatform, type TestPlatform } from '../../helpers/platform';
import { isolatedEnv, tableOf, whet } from '../whet';

describe('whet models', () => {
  let platform: TestPlatform;
  let owner: WhetstoneClient;
  let scratch: string;
  /** No user config and no credentials file: only what a test passes reaches the CLI. */
  let isolated: Record<string, string>;
  let asOwner: Record<string, string>;

  beforeAll(async () => {
    platform = await startTestPlatform();
    owner = new WhetstoneClient({ url: platform.url, apiKey: platform.ownerKey });
    await ensureTinyModel(platform);
    scratch = mkdtempSync(join(tmpdir(), 'whetstone-cli-models-'));
    isolated = isolatedEnv(scratch);
    asOwner = { ...isolated, WHETSTONE_URL: platform.url, WHETSTONE_API_KEY: platform.ownerKey };
  });
  afterAll(async () => {
    await platform?.stop();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  it('registers base models from their default prefix or a given one', async () => {
    // Prepare
    await uploadModelFiles(platform, objectKeys.model('tiny-two'), tinyLlamaFiles());
    await uploadModelFiles(platform, 'models/shared/tiny-three/', tinyLlamaFiles());

    // Act
    const registered = await whet(['models', 'register', 'tiny-two'], asOwner);
    const elsewhere = await whet(
      ['models', 'register', 'tiny-three', '--prefix', 'models/shared/tiny-three/', '--json'],
      asOwner,
    );
    const again = await whet(['models', 'register', 'tiny-two'], asOwner);

    // Assess
    expect(registered).toEqual({
      code: 0,
      stdout: 'Registered base model tiny-two (LlamaForCausalLM).\n',
      stderr: '',
    });
    expect(elsewhere.code).toBe(0);
    expect(JSON.parse(elsewhere.stdout)).toEqual(await owner.models.retrieve('tiny-three'));
    expect(again).toEqual({
      code: 1,
      stdout: '',
      stderr: 'error: A base model with id tiny-two is already registered. (param: id)\n',
    });
  });

  it('lists and shows models, and deletes a fine-tuned one by its name', { timeout: 60_000 }, async () => {
    // Prepare
    const key = await platform.createTeamKey('modelers', 'admin');
    const admin = new WhetstoneClient({ url: platform.url, apiKey: key });
    const job = await admin.fineTuning.jobs.create({
      model: 'tiny-llama',
      training_file: await uploadTrainingFile(platform, key),
      suffix: 'v1',
      metadata: trainerMetadata({ mode: 'succeed' }),
    });
    const name = (await waitForJob(platform, key, job.id, hasStatus('succeeded'))).fine_tuned_model ?? '';
    const tuned = await admin.models.retrieve(name);
    const models = await admin.models.list();
    const env = { ...isolated, WHETSTONE_URL: platform.url, WHETSTONE_API_KEY: key };

    // Act
    const [listed, shown, base] = await Promise.all([
      whet(['models', 'list'], env),
      whet(['models', 'get', name], env),
      whet(['models', 'delete', 'tiny-llama'], env),
    ]);
    const deleted = await whet(['models', 'delete', name], env);
    const gone = await whet(['models', 'get', name], env);

    // Assess
    const row = (model: ModelObject) => [
      model.id,
      model.whetstone?.kind,
      model.owned_by,
      model.whetstone?.base_model ?? '-',
      formatTime(model.created),
    ];
    expect(models.data.map((model) => model.id)).toContain('tiny-llama');
    expect(models.data.at(-1)?.id).toBe(name);
    expect(tableOf(listed.stdout)).toEqual([
      ['ID', 'KIND', 'OWNED BY', 'BASE MODEL', 'CREATED'],
      ...models.data.map(row),
    ]);
    expect(shown).toEqual({
      code: 0,
      stdout: [
        `id:           ${name}`,
        'kind:         fine-tuned',
        'architecture: LlamaForCausalLM',
        'owned by:     modelers',
        'base model:   tiny-llama',
        `job:          ${job.id}`,
        `created:      ${formatTime(tuned.created)}`,
        '',
      ].join('\n'),
      stderr: '',
    });
    expect(base).toEqual({
      code: 1,
      stdout: '',
      stderr: 'error: You cannot delete base model tiny-llama. (param: model)\n',
    });
    expect(deleted).toEqual({ code: 0, stdout: `Deleted model ${name}.\n`, stderr: '' });
    expect(gone).toEqual({
      code: 1,
      stdout: '',
      stderr: `error: The model \`${name}\` does not exist or you do not have access to it. (param: model)\n`,
    });
  });

  it('refuses a bad id or prefix before any request', async () => {
    // Act
    const [badId, badPrefix] = await Promise.all([
      whet(['models', 'register', 'tiny/llama'], isolated),
      whet(['models', 'register', 'tiny', '--prefix', 'weights/tiny/'], isolated),
    ]);

    // Assess
    // With no target configured, a command that got as far as a request would say so instead.
    expect([badId.code, badId.stdout, badId.stderr.split('\n')[0]]).toEqual([
      1,
      '',
      "error: command-argument value 'tiny/llama' is invalid for argument 'id'. 'tiny/llama' is not a valid id: it must be 1-96 letters, digits, dots, underscores or hyphens.",
    ]);
    expect([badPrefix.code, badPrefix.stdout, badPrefix.stderr.split('\n')[0]]).toEqual([
      1,
      '',
      "error: option '--prefix <prefix>' argument 'weights/tiny/' is invalid. 'weights/tiny/' is not a valid prefix: it must be a key prefix under 'models/' ending in '/'.",
    ]);
  });
});

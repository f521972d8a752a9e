import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeExample, readJsonlExamples } from '../../trainer/src/data';
import { Random } from '../../trainer/src/engine/random';
import { ReferenceBackend } from '../../trainer/src/engine/reference';
import { readModelConfig } from '../../trainer/src/model/config';
import { loadHfWeights } from '../../trainer/src/model/hf-weights';
import { LlamaModel } from '../../trainer/src/model/llama';
import { readLoraAdapter } from '../../trainer/src/model/peft';
import { loadTokenizer } from '../../trainer/src/tokenizer';
import { evaluate } from '../../trainer/src/train/evaluate';
import type { TokenizedExample } from '../../trainer/src/train/examples';
import { ANIMALS, animalConversation, writeTinyChatModel } from '../helpers/trainer/chat-job';
import { isolatedEnv, whet } from './whet';

/**
 * The held-out loss must fall by at least this many nats per trained token: the random base model
 * starts near 6.6 and the replies follow one template (measured: about 2.4 after training).
 */
const REQUIRED_IMPROVEMENT = 2;

let scratch: string;
let modelDir: string;

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'whetstone-train-'));
  modelDir = join(scratch, 'base');
  await writeTinyChatModel(modelDir);
  // Training and held-out sets share the template, never an animal.
  await writeFile(
    join(scratch, 'train.jsonl'),
    `${ANIMALS.slice(0, 12).map(animalConversation).join('\n')}\n`,
  );
  await writeFile(
    join(scratch, 'heldout.jsonl'),
    `${ANIMALS.slice(12).map(animalConversation).join('\n')}\n`,
  );
}, 60_000);

afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

describe('whet train', () => {
  it('writes a PEFT adapter that lowers the held-out loss against the base model', async () => {
    // Prepare
    const out = join(scratch, 'out');

    // Act
    const run = await whet(
      [
        'train',
        '--model',
        modelDir,
        '--train',
        join(scratch, 'train.jsonl'),
        '--validation',
        join(scratch, 'heldout.jsonl'),
        '--out',
        out,
        '--epochs',
        '8',
        '--batch-size',
        '4',
        '--lr',
        '1e-2',
        '--lora-r',
        '8',
        '--lora-alpha',
        '16',
        '--lora-targets',
        'all-linear',
        '--max-seq-len',
        '64',
        '--seed',
        '5',
      ],
      isolatedEnv(scratch),
    );

    // Assess
    expect(run.stderr).not.toMatch(/error/i);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^step 1\/24 {2}epoch 0\.33 {2}loss \d+\.\d{4}/m);
    expect(run.stdout).toMatch(/^step 24\/24 {2}epoch 8\.00/m);
    expect(run.stdout).toMatch(/^eval {2}step 0 {2}valid loss \d+\.\d{4}/m);
    expect(run.stdout).toMatch(
      /^written: +.*\/out\/adapter, .*\/out\/metrics\.jsonl, .*\/out\/summary\.json$/m,
    );
    expect((await readdir(join(out, 'adapter'))).sort()).toEqual([
      'adapter_config.json',
      'adapter_model.safetensors',
    ]);
    const summary = JSON.parse(await readFile(join(out, 'summary.json'), 'utf8'));
    expect(summary).toMatchObject({
      backend: 'reference',
      method: 'lora',
      steps: 24,
      epochs: 8,
      trainExamples: 12,
    });
    expect(summary.validation.loss).toBeLessThan(summary.baseValidation.loss - REQUIRED_IMPROVEMENT);
    const metrics = (await readFile(join(out, 'metrics.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(metrics.filter((line) => 'train_loss' in line)).toHaveLength(24);
    expect(metrics.filter((line) => 'valid_loss' in line).map((line) => line.step)).toEqual([
      0, 3, 6, 9, 12, 15, 18, 21, 24,
    ]);

    // The adapter, loaded back on the base model, reproduces the reported held-out loss.
    const config = await readModelConfig(modelDir);
    const adapter = await readLoraAdapter(join(out, 'adapter'), config);
    expect(adapter.method).toEqual({
      kind: 'lora',
      rank: 8,
      alpha: 16,
      dropout: 0.05,
      targetModules: ['down_proj', 'gate_proj', 'k_proj', 'o_proj', 'q_proj', 'up_proj', 'v_proj'],
    });
    const tuned = LlamaModel.create(new ReferenceBackend(), config, adapter.method, {
      weights: await loadHfWeights(modelDir, config),
      adapter: adapter.tensors,
      random: Random.fromSeed(0),
    });
    expect(tuned.parameters.trainableParameters()).toHaveLength(28);
    const tokenizer = await loadTokenizer(modelDir);
    const heldOut: TokenizedExample[] = [];
    for await (const { example } of readJsonlExamples(join(scratch, 'heldout.jsonl'))) {
      heldOut.push(encodeExample(tokenizer, example, { maxSeqLen: 64 }));
    }
    const reloaded = await evaluate(tuned, heldOut, 4, tokenizer.padTokenId);
    expect(reloaded.loss).toBeCloseTo(summary.validation.loss, 5);
    expect(reloaded.meanTokenAccuracy).toBeCloseTo(summary.validation.meanTokenAccuracy, 10);
  }, 120_000);

  it('continues training a PEFT adapter with --adapter, keeping its rank and modules', async () => {
    // Prepare
    const first = join(scratch, 'first');
    const train = join(scratch, 'train.jsonl');
    const validation = join(scratch, 'heldout.jsonl');
    const common = [
      '--model',
      modelDir,
      '--train',
      train,
      '--validation',
      validation,
      '--max-seq-len',
      '64',
      '--batch-size',
      '4',
      '--lr',
      '1e-2',
    ];
    const firstRun = await whet(
      [
        'train',
        ...common,
        '--out',
        first,
        '--epochs',
        '2',
        '--lora-r',
        '4',
        '--lora-targets',
        'q_proj,v_proj',
      ],
      isolatedEnv(scratch),
    );
    expect(firstRun.code).toBe(0);
    const firstSummary = JSON.parse(await readFile(join(first, 'summary.json'), 'utf8'));

    // Act
    const second = join(scratch, 'second');
    const run = await whet(
      ['train', ...common, '--out', second, '--epochs', '2', '--adapter', join(first, 'adapter'), '--json'],
      isolatedEnv(scratch),
    );

    // Assess
    expect(run.code).toBe(0);
    const summary = JSON.parse(run.stdout);
    expect(summary.baseValidation.loss).toBeCloseTo(firstSummary.validation.loss, 5);
    expect(summary.validation.loss).toBeLessThan(summary.baseValidation.loss);
    const config = JSON.parse(await readFile(join(second, 'adapter', 'adapter_config.json'), 'utf8'));
    expect({ r: config.r, target_modules: config.target_modules }).toEqual({
      r: 4,
      target_modules: ['q_proj', 'v_proj'],
    });
  }, 120_000);

  it('writes a Hugging Face model directory for partial training, with untrained layers unchanged', async () => {
    // Prepare
    const out = join(scratch, 'partial');

    // Act
    const run = await whet(
      [
        'train',
        '--model',
        modelDir,
        '--train',
        join(scratch, 'train.jsonl'),
        '--out',
        out,
        '--method',
        'partial',
        '--layers',
        '1',
        '--modules',
        'mlp',
        '--epochs',
        '1',
        '--max-seq-len',
        '64',
        '--json',
      ],
      isolatedEnv(scratch),
    );

    // Assess
    expect(run.code).toBe(0);
    expect((await readdir(join(out, 'model'))).sort()).toEqual([
      'config.json',
      'model.safetensors',
      'tokenizer.json',
      'tokenizer_config.json',
    ]);
    const config = await readModelConfig(modelDir);
    const base = await loadHfWeights(modelDir, config);
    const tuned = await loadHfWeights(join(out, 'model'), config);
    const changed = [...base]
      .filter(([name, tensor]) => tensor.data.some((value, i) => value !== tuned.get(name)?.data[i]))
      .map(([name]) => name);
    expect(changed.sort()).toEqual([
      'model.layers.1.mlp.down_proj.weight',
      'model.layers.1.mlp.gate_proj.weight',
      'model.layers.1.mlp.up_proj.weight',
    ]);
  }, 120_000);

  it('refuses a missing training file with its name, and writes nothing', async () => {
    // Act
    const out = join(scratch, 'missing-out');
    const run = await whet(
      ['train', '--model', modelDir, '--train', join(scratch, 'nope.jsonl'), '--out', out],
      isolatedEnv(scratch),
    );

    // Assess
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('nope.jsonl');
    await expect(readdir(out)).rejects.toThrow(/ENOENT/);
  }, 60_000);

  it('refuses an unknown back end and a sequence length beyond the model, naming them', async () => {
    // Prepare
    const base = ['train', '--model', modelDir, '--train', join(scratch, 'train.jsonl')];

    // Act
    const backend = await whet(
      [...base, '--out', join(scratch, 'b'), '--backend', 'nope'],
      isolatedEnv(scratch),
    );
    const length = await whet(
      [...base, '--out', join(scratch, 'l'), '--max-seq-len', '100000'],
      isolatedEnv(scratch),
    );

    // Assess
    expect(backend.code).toBe(1);
    expect(backend.stderr.trim()).toBe('no back end named "nope"; available: reference, native');
    expect(length.code).toBe(1);
    expect(length.stderr.trim()).toBe(
      "a maximum sequence length of 100000 is longer than the model's max_position_embeddings (128)",
    );
  }, 60_000);

  it('refuses partial training without layers or modules', async () => {
    const run = await whet(
      [
        'train',
        '--model',
        modelDir,
        '--train',
        join(scratch, 'train.jsonl'),
        '--out',
        join(scratch, 'p'),
        '--method',
        'partial',
      ],
      isolatedEnv(scratch),
    );
    expect(run.code).toBe(1);
    expect(run.stderr.trim()).toBe('--method partial needs --layers or --modules.');
  }, 60_000);
});

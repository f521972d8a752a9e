import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { PRETRAIN_SETTINGS } from '../../demo/pretrain/main';
import { createBackend } from '../../trainer/src/engine/backends';
import { Random } from '../../trainer/src/engine/random';
import { type ModelConfig, readModelConfig } from '../../trainer/src/model/config';
import { expectedTensorShapes, loadHfWeights } from '../../trainer/src/model/hf-weights';
import { LlamaModel } from '../../trainer/src/model/llama';
import { loadTokenizer, type Tokenizer } from '../../trainer/src/tokenizer';
import { evaluate } from '../../trainer/src/train/evaluate';

const MODEL_DIR = join(__dirname, '../../demo/base-model');

// From held-out documents (Genesis 38, Leviticus 12, WordNet nouns 1472): never trained on.
const HELD_OUT_SENTENCES = [
  'And it came to pass at that time, that Judah went down from his brethren, and turned in to a certain Adullamite, whose name was Hirah.',
  'And in the eighth day the flesh of his foreskin shall be circumcised.',
  'slot: a small slit (as for inserting a coin or depositing mail); "he put a quarter in the slot"',
];

/** The held-out sentences' mean loss in nats per token, measured when the model was written. */
const EXPECTED_SENTENCE_LOSS = 4.2811;

let readme: string;
let config: ModelConfig;
let tokenizer: Tokenizer;

function readmeFigure(pattern: RegExp): string {
  const match = pattern.exec(readme);
  if (!match) throw new Error(`demo/base-model/README.md has no match for ${pattern}`);
  return match[1] as string;
}

beforeAll(async () => {
  readme = await readFile(join(MODEL_DIR, 'README.md'), 'utf8');
  config = await readModelConfig(MODEL_DIR);
  tokenizer = await loadTokenizer(MODEL_DIR);
});

describe('the demo base model', () => {
  it('is a tied-embedding Llama of about 5.4 million parameters over the tokenizer vocabulary', () => {
    // Act
    let parameters = 0;
    for (const shape of expectedTensorShapes(config).values()) parameters += shape.reduce((p, s) => p * s, 1);

    // Assess
    expect(config.architecture).toBe('llama');
    expect(config.tieWordEmbeddings).toBe(true);
    expect(config.vocabSize).toBe(tokenizer.vocabSize);
    expect(config.vocabSize).toBe(4096);
    expect(parameters).toBe(5_401_856);
    expect(readme).toMatch(/\| Parameters +\| 5,401,856 +\|/);
  });

  it('has the ChatML special tokens, eos <|im_end|> and pad <|endoftext|>', () => {
    // Prepare
    const assistant = tokenizer.encode('assistant', { addSpecialTokens: false });

    // Act
    const ids = tokenizer.encode('<|im_start|>assistant\n<|im_end|><|endoftext|>');

    // Assess
    expect(ids).toEqual([4094, ...assistant, 10, 4095, 4093]);
    expect(tokenizer.eosTokenId).toBe(4095);
    expect(tokenizer.padTokenId).toBe(4093);
    expect(tokenizer.bosTokenId).toBeNull();
  });

  it('is the finished run of the pre-training script with its default settings', () => {
    // Act
    const steps = readmeFigure(/\| Steps +\| (\d+ of \d+) +\|/);
    const tokensSeen = Number(readmeFigure(/\| Tokens seen +\| ([\d,]+) +\|/).replaceAll(',', ''));

    // Assess
    expect(steps).toBe(`${PRETRAIN_SETTINGS.steps} of ${PRETRAIN_SETTINGS.steps}`);
    expect(tokensSeen).toBe(
      PRETRAIN_SETTINGS.steps * PRETRAIN_SETTINGS.batchSize * PRETRAIN_SETTINGS.sequenceLength,
    );
    expect(readme).not.toContain('Intermediate state');
  });

  it('stores the weights whose sha256 the README states', async () => {
    // Prepare
    const stated = readmeFigure(/sha256 of `model\.safetensors`: `([0-9a-f]{64})`/);

    // Act
    const actual = createHash('sha256')
      .update(await readFile(join(MODEL_DIR, 'model.safetensors')))
      .digest('hex');

    // Assess
    expect(actual).toBe(stated);
  });

  it('predicts held-out English far better than the unigram baseline the README states', async () => {
    // Prepare
    const unigram = Number(readmeFigure(/\| Unigram baseline +\| ([0-9.]+) +\|/));
    const heldOut = Number(readmeFigure(/\| This model +\| ([0-9.]+) +\|/));
    const model = LlamaModel.create(
      createBackend('native'),
      config,
      { kind: 'full' },
      {
        weights: await loadHfWeights(MODEL_DIR, config),
        random: Random.fromSeed(1),
      },
    );
    const examples = HELD_OUT_SENTENCES.map((sentence) => {
      const tokens = Int32Array.from(tokenizer.encode(sentence, { addSpecialTokens: false }));
      return { tokens, lossWeights: new Float32Array(tokens.length).fill(1) };
    });

    // Act
    const { loss, tokens } = await evaluate(model, examples, examples.length, tokenizer.padTokenId);

    // Assess
    expect(unigram).toBeGreaterThan(6);
    expect(heldOut).toBeLessThan(unigram - 1.5);
    expect(tokens).toBe(examples.reduce((sum, example) => sum + example.tokens.length - 1, 0));
    expect(loss).toBeLessThan(unigram - 1.5);
    expect(loss).toBeCloseTo(EXPECTED_SENTENCE_LOSS, 2);
  });
});

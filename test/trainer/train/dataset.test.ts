import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadTokenizer, type Tokenizer } from '../../../trainer/src/tokenizer';
import { loadDataset } from '../../../trainer/src/train/dataset';
import { TrainingDataError } from '../../../trainer/src/train/errors';
import { ANIMALS, animalDataset } from '../../helpers/trainer/chat-job';
import { writeTinyTokenizer } from '../../helpers/trainer/tiny-tokenizer';

describe('loadDataset', () => {
  const dir = mkdtempSync(join(tmpdir(), 'whetstone-dataset-'));
  const trainFile = join(dir, 'train.jsonl');
  let tokenizer: Tokenizer;

  beforeAll(async () => {
    writeTinyTokenizer(join(dir, 'model'));
    tokenizer = await loadTokenizer(join(dir, 'model'));
    writeFileSync(trainFile, animalDataset(ANIMALS));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('holds out the same share of examples for a seed, and says so', async () => {
    // Prepare
    const notices: string[] = [];
    const files = { trainFile, validationFraction: 0.25, generationExamples: 2 };

    // Act
    const first = await loadDataset(files, {
      tokenizer,
      maxSeqLen: 64,
      seed: 3,
      onNotice: (m) => notices.push(m),
    });
    const again = await loadDataset(files, { tokenizer, maxSeqLen: 64, seed: 3 });
    const other = await loadDataset(files, { tokenizer, maxSeqLen: 64, seed: 4 });

    // Assess
    expect([first.train.length, first.validation?.length]).toEqual([12, 4]);
    expect(notices).toEqual([
      'No validation file: 4 of the 16 training examples (25%), drawn with seed 3, are held out for validation',
    ]);
    const tokensOf = (examples: typeof first.validation) =>
      (examples ?? []).map((e) => Array.from(e.tokens).join());
    expect(tokensOf(again.validation)).toEqual(tokensOf(first.validation));
    expect(tokensOf(other.validation)).not.toEqual(tokensOf(first.validation));
    expect(first.prompts.map((prompt) => prompt.reference)).toHaveLength(2);
    expect(first.prompts[0]?.reference).toMatch(/^The [a-z]{3} is an animal\.$/);
  });

  it('refuses a training file whose trained tokens all fall beyond maxSeqLen, naming the file', async () => {
    // Act
    const loading = loadDataset(
      { trainFile, validationFraction: 0, generationExamples: 0 },
      { tokenizer, maxSeqLen: 16, seed: 1 },
    );

    // Assess
    await expect(loading).rejects.toThrow(TrainingDataError);
    await expect(loading).rejects.toThrow(
      'train.jsonl: no example has a trained token within its first 16 tokens (assistant replies with weight 1, or completions), so there is nothing to learn',
    );
  });
});

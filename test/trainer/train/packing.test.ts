import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Random } from '../../../trainer/src/engine/random';
import { ReferenceBackend } from '../../../trainer/src/engine/reference';
import { padSequences } from '../../../trainer/src/model/batch';
import { LlamaModel } from '../../../trainer/src/model/llama';
import type { TokenizedExample } from '../../../trainer/src/train/examples';
import { packExamples } from '../../../trainer/src/train/packing';
import { createTinyModel, type TinyModel } from '../../helpers/trainer/tiny-model';

let dir: string;
let tiny: TinyModel;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'whetstone-packing-'));
  tiny = await createTinyModel(dir, {
    vocabSize: 32,
    hiddenSize: 16,
    numLayers: 2,
    numHeads: 4,
    numKvHeads: 2,
    intermediateSize: 32,
    seed: 5,
  });
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function example(tokens: number[], promptTokens = 1): TokenizedExample {
  return {
    tokens: Int32Array.from(tokens),
    lossWeights: Float32Array.from(tokens, (_, t) => (t < promptTokens ? 0 : 1)),
  };
}

describe('packExamples', () => {
  it('fills rows in order, restarting positions and zeroing the weight of each first token', () => {
    // Prepare
    const examples = [example([1, 2, 3]), example([4, 5]), example([6, 7, 8, 9]), example([10], 0)];

    // Act
    const rows = packExamples(examples, 6);

    // Assess
    expect(rows.map((row) => Array.from(row.tokens))).toEqual([
      [1, 2, 3, 4, 5],
      [6, 7, 8, 9, 10],
    ]);
    expect(rows.map((row) => Array.from(row.positions ?? []))).toEqual([
      [0, 1, 2, 0, 1],
      [0, 1, 2, 3, 0],
    ]);
    expect(rows.map((row) => Array.from(row.lossWeights))).toEqual([
      [0, 1, 1, 0, 1],
      [0, 1, 1, 1, 0],
    ]);
  });

  it('refuses an example longer than a row, naming both lengths', () => {
    // Act / Assess
    expect(() => packExamples([example([1, 2, 3, 4])], 3)).toThrow(
      'an example of 4 tokens does not fit a packed row of 3',
    );
  });

  it('gives the loss, weight and accuracy of the examples run unpacked', async () => {
    // Prepare
    const random = Random.fromSeed(17);
    const examples = Array.from({ length: 6 }, () =>
      example(
        Array.from({ length: 3 + random.below(5) }, () => 1 + random.below(31)),
        2,
      ),
    );
    const model = LlamaModel.create(
      new ReferenceBackend('f64'),
      tiny.config,
      { kind: 'full' },
      {
        weights: tiny.tensors,
        random: Random.fromSeed(1),
      },
    );

    // Act
    model.forward(padSequences(examples, 0));
    const unpacked = await model.lossTotals();
    model.forward(padSequences(packExamples(examples, 16), 0));
    const packed = await model.lossTotals();

    // Assess
    expect(packed.weight).toBe(unpacked.weight);
    expect(packed.correct).toBe(unpacked.correct);
    expect(packed.loss).toBeCloseTo(unpacked.loss, 10);
  });
});

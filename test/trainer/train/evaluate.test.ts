import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Random } from '../../../trainer/src/engine/random';
import { ReferenceBackend } from '../../../trainer/src/engine/reference';
import { LlamaModel } from '../../../trainer/src/model/llama';
import { evaluate } from '../../../trainer/src/train/evaluate';
import type { TokenizedExample } from '../../../trainer/src/train/examples';
import { createTinyModel, type TinyModel } from '../../helpers/trainer/tiny-model';

let dir: string;
let tiny: TinyModel;
let data: TokenizedExample[];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'whetstone-evaluate-'));
  tiny = await createTinyModel(dir, {
    vocabSize: 20,
    hiddenSize: 8,
    numLayers: 2,
    numHeads: 2,
    numKvHeads: 1,
    intermediateSize: 12,
    seed: 6,
    scale: 0.5,
  });
  data = await examples();
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function newModel(): LlamaModel {
  return LlamaModel.create(
    new ReferenceBackend('f32'),
    tiny.config,
    { kind: 'full' },
    {
      weights: tiny.tensors,
      random: Random.fromSeed(1),
    },
  );
}

/**
 * Seven examples of 2 to 9 tokens, a two-token prompt that does not train, one half-weighted message;
 * two of them continue their prompt greedily, so that some predictions hit their targets.
 */
async function examples(): Promise<TokenizedExample[]> {
  const random = Random.fromSeed(31);
  const model = newModel();
  const lengths = [5, 9, 2, 7, 3, 8, 6];
  const result: TokenizedExample[] = [];
  for (const [index, length] of lengths.entries()) {
    const tokens = Array.from({ length }, () => 1 + random.below(19));
    if (index === 1 || index === 5) {
      tokens.splice(
        3,
        length - 3,
        ...(await model.generate(tokens.slice(0, 3), { maxNewTokens: length - 3 })),
      );
    }
    const lossWeights = Float32Array.from({ length }, (_, t) => (t < 2 ? 0 : index === 3 ? 0.5 : 1));
    result.push({ tokens: Int32Array.from(tokens), lossWeights });
  }
  return result;
}

/**
 * The oracle: each example alone, its logits read back and the weighted cross-entropy and argmax
 * computed on the host in float64, target t + 1 weighted by lossWeights[t + 1].
 */
async function byHand(model: LlamaModel, data: readonly TokenizedExample[]) {
  const V = tiny.config.vocabSize;
  let loss = 0;
  let weight = 0;
  let correct = 0;
  for (const example of data) {
    const T = example.tokens.length;
    model.forward({
      batch: 1,
      length: T,
      tokens: example.tokens,
      positions: Int32Array.from({ length: T }, (_, t) => t),
    });
    const logits = await model.logits();
    for (let t = 0; t + 1 < T; t++) {
      const w = example.lossWeights[t + 1]!;
      if (w === 0) continue;
      const row = logits.subarray(t * V, (t + 1) * V);
      const max = Math.max(...row);
      const logSum = max + Math.log(row.reduce((sum, value) => sum + Math.exp(value - max), 0));
      const target = example.tokens[t + 1]!;
      loss += w * (logSum - row[target]!);
      weight += w;
      if (row.indexOf(max) === target) correct += w;
    }
  }
  return { loss: loss / weight, meanTokenAccuracy: correct / weight, tokens: weight };
}

describe('evaluate', () => {
  it('gives the weighted mean loss and token accuracy of a hand sum over the examples', async () => {
    // Prepare
    const expected = await byHand(newModel(), data);

    // Act
    const result = await evaluate(newModel(), data, 3, 0);

    // Assess: 3 + 7 + 0 + 2.5 + 1 + 6 + 4 weighted targets.
    expect(expected.tokens).toBe(23.5);
    expect(result.tokens).toBe(23.5);
    expect(Math.abs(result.loss - expected.loss) / expected.loss).toBeLessThan(1e-6);
    expect(result.meanTokenAccuracy).toBe(expected.meanTokenAccuracy);
    expect(expected.loss).toBeGreaterThan(1);
    // The 6 + 5 greedy continuations are the only hits.
    expect(expected.meanTokenAccuracy).toBe(11 / 23.5);
  });

  it('gives the same result for batches of 1, 3 and all examples, padding included', async () => {
    // Prepare
    const model = newModel();

    // Act
    const single = await evaluate(model, data, 1, 0);
    const threes = await evaluate(model, data, 3, 0);
    const whole = await evaluate(model, data, data.length, 17);

    // Assess
    for (const other of [threes, whole]) {
      expect(Math.abs(other.loss - single.loss) / single.loss).toBeLessThan(1e-6);
      expect(other.meanTokenAccuracy).toBe(single.meanTokenAccuracy);
      expect(other.tokens).toBe(single.tokens);
    }
  });

  it('does not change the model: a second evaluation gives the same numbers bit for bit', async () => {
    // Prepare
    const model = newModel();
    const first = await evaluate(model, data, 2, 0);

    // Act
    const second = await evaluate(model, data, 2, 0);

    // Assess
    expect(second).toEqual(first);
  });

  it('gives NaN loss and accuracy over no trained tokens', async () => {
    // Prepare
    const untrained: TokenizedExample[] = [
      { tokens: Int32Array.from([4, 5, 6]), lossWeights: new Float32Array(3) },
    ];

    // Act
    const none = await evaluate(newModel(), [], 4, 0);
    const zero = await evaluate(newModel(), untrained, 4, 0);

    // Assess
    expect(none).toEqual({ loss: Number.NaN, meanTokenAccuracy: Number.NaN, tokens: 0 });
    expect(zero).toEqual({ loss: Number.NaN, meanTokenAccuracy: Number.NaN, tokens: 0 });
  });
});

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EngineError } from '../../../trainer/src/engine/errors';
import { Random } from '../../../trainer/src/engine/random';
import { ReferenceBackend } from '../../../trainer/src/engine/reference';
import { LlamaModel } from '../../../trainer/src/model/llama';
import { createTinyModel, type TinyModel } from '../../helpers/trainer/tiny-model';

let dir: string;
let tiny: TinyModel;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'whetstone-generate-'));
  tiny = await createTinyModel(dir, {
    vocabSize: 40,
    hiddenSize: 16,
    numLayers: 2,
    numHeads: 4,
    numKvHeads: 2,
    intermediateSize: 24,
    seed: 8,
    scale: 0.3,
  });
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function model(): LlamaModel {
  return LlamaModel.create(
    new ReferenceBackend(),
    tiny.config,
    { kind: 'full' },
    { weights: tiny.tensors, random: Random.fromSeed(1) },
  );
}

/** The oracle: the whole sequence through forward again for every new token, no cache. */
async function greedyWithoutCache(m: LlamaModel, prompt: number[], count: number): Promise<number[]> {
  const sequence = [...prompt];
  const V = tiny.config.vocabSize;
  for (let i = 0; i < count; i++) {
    const T = sequence.length;
    m.forward({
      batch: 1,
      length: T,
      tokens: Int32Array.from(sequence),
      positions: Int32Array.from(sequence, (_, t) => t),
    });
    const logits = (await m.logits()).subarray((T - 1) * V, T * V);
    let best = 0;
    for (let v = 1; v < V; v++) if (logits[v]! > logits[best]!) best = v;
    sequence.push(best);
  }
  return sequence.slice(prompt.length);
}

describe('LlamaModel.generate', () => {
  it('decodes with its key/value cache exactly the tokens that full recomputation picks', async () => {
    // Prepare
    const prompt = [3, 17, 5, 29, 11];

    // Act
    const cached = await model().generate(prompt, { maxNewTokens: 12 });
    const recomputed = await greedyWithoutCache(model(), prompt, 12);

    // Assess
    expect(cached).toHaveLength(12);
    expect(cached).toEqual(recomputed);
    expect(new Set(cached).size).toBeGreaterThan(1);
  });

  it('stops after a stop token and includes it', async () => {
    // Prepare
    const prompt = [3, 17, 5, 29, 11];
    const full = await model().generate(prompt, { maxNewTokens: 12 });
    const stop = full[4]!;

    // Act
    const stopped = await model().generate(prompt, { maxNewTokens: 12, stopTokens: [stop] });

    // Assess
    expect(stopped).toEqual(full.slice(0, full.indexOf(stop) + 1));
  });

  it('refuses an empty prompt and tokens outside the vocabulary', async () => {
    await expect(model().generate([], { maxNewTokens: 2 })).rejects.toThrow(
      new EngineError('generation needs a prompt of at least one token'),
    );
    await expect(model().generate([40], { maxNewTokens: 2 })).rejects.toThrow(
      'token id 40 at 0 is outside the vocabulary of 40',
    );
  });
});

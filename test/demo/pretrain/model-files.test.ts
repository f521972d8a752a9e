import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countPreTokens, tokenizerFiles, trainBpe } from '../../../demo/pretrain/bpe';
import { PRETRAIN_SETTINGS } from '../../../demo/pretrain/main';
import {
  configJson,
  parameterCount,
  parseConfig,
  randomWeights,
  writeModelFiles,
} from '../../../demo/pretrain/model-files';
import { readModelConfig } from '../../../trainer/src/model/config';
import { loadHfWeights } from '../../../trainer/src/model/hf-weights';
import { readSafetensorsHeader } from '../../../trainer/src/model/safetensors';
import { loadTokenizer } from '../../../trainer/src/tokenizer';

const TINY = {
  hiddenSize: 8,
  numLayers: 1,
  numHeads: 2,
  numKvHeads: 1,
  intermediateSize: 12,
  maxPositionEmbeddings: 32,
  ropeTheta: 10000,
  initializerRange: 0.02,
};

let root: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'whetstone-model-files-'));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('configJson', () => {
  it('describes the demo architecture: a tied Llama of 5,401,856 parameters', () => {
    // Act
    const config = parseConfig(
      configJson(PRETRAIN_SETTINGS.architecture, 4096, { endOfText: 4093, imEnd: 4095 }),
    );

    // Assess
    expect(config.architecture).toBe('llama');
    expect(config.tieWordEmbeddings).toBe(true);
    expect(config.headDim).toBe(64);
    expect(config.numKvHeads).toBe(2);
    expect(config.eosTokenIds).toEqual([4095]);
    expect(parameterCount(config)).toBe(5_401_856);
  });
});

describe('randomWeights', () => {
  it('draws the same weights from the same seed, norm weights 1 and matrices of standard deviation 0.02', () => {
    // Prepare
    const config = parseConfig(configJson({ ...TINY, hiddenSize: 64 }, 512, { endOfText: 509, imEnd: 511 }));

    // Act
    const first = randomWeights(config, 0.02, 7);
    const second = randomWeights(config, 0.02, 7);

    // Assess
    const embedding = first.get('model.embed_tokens.weight')?.data ?? new Float32Array();
    expect(embedding).toHaveLength(32768);
    expect(second.get('model.embed_tokens.weight')?.data).toEqual(embedding);
    let sumOfSquares = 0;
    for (const value of embedding) sumOfSquares += value * value;
    expect(Math.sqrt(sumOfSquares / embedding.length)).toBeCloseTo(0.02, 3);
    expect(new Set(first.get('model.norm.weight')?.data)).toEqual(new Set([1]));
  });
});

describe('writeModelFiles', () => {
  it('writes a bf16 model the engine loads, with its tokenizer, and returns the weights file sha256', async () => {
    // Prepare
    const dir = join(root, 'model');
    const bpe = trainBpe(countPreTokens(['ab ab cd cd']), 1000);
    const tokenizer = tokenizerFiles(bpe, 32);
    const ids = { endOfText: 259, imEnd: 261 };
    const raw = configJson(TINY, tokenizer.vocabSize, ids);
    const config = parseConfig(raw);
    const tensors = randomWeights(config, 0.02, 3);

    // Act
    const sha256 = await writeModelFiles(dir, raw, tensors, tokenizer, ids);

    // Assess
    const header = await readSafetensorsHeader(join(dir, 'model.safetensors'));
    expect(new Set([...header.tensors.values()].map((entry) => entry.dtype))).toEqual(new Set(['BF16']));
    expect(header.metadata).toEqual({ format: 'pt' });
    const loaded = await loadHfWeights(dir, await readModelConfig(dir));
    const original = tensors.get('model.layers.0.mlp.up_proj.weight')?.data ?? new Float32Array();
    const stored = loaded.get('model.layers.0.mlp.up_proj.weight')?.data ?? new Float32Array();
    for (let i = 0; i < original.length; i++) {
      expect(Math.abs((stored[i] as number) - (original[i] as number))).toBeLessThanOrEqual(
        Math.abs(original[i] as number) / 256,
      );
    }
    const weightsHash = createHash('sha256')
      .update(await readFile(join(dir, 'model.safetensors')))
      .digest('hex');
    expect(sha256).toBe(weightsHash);
    const loadedTokenizer = await loadTokenizer(dir);
    expect(loadedTokenizer.vocabSize).toBe(262);
    expect(loadedTokenizer.eosTokenIds).toEqual([261, 259]);
  });
});

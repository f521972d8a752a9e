import { describe, expect, it } from 'vitest';
import { EngineError } from '../../../trainer/src/engine/errors';
import {
  attentionWindows,
  checkBatch,
  padSequences,
  type TokenBatch,
} from '../../../trainer/src/model/batch';

describe('padSequences', () => {
  it('right-pads rows to the longest, with next-token targets weighted by lossWeights[t + 1]', () => {
    // Prepare
    const sequences = [
      { tokens: [5, 6, 7, 8], lossWeights: [0, 0, 1, 0.5] },
      { tokens: [9], lossWeights: [1] },
      { tokens: [10, 11] },
    ];

    // Act
    const batch = padSequences(sequences, 3);

    // Assess
    expect(batch.batch).toBe(3);
    expect(batch.length).toBe(4);
    expect(Array.from(batch.tokens)).toEqual([5, 6, 7, 8, 9, 3, 3, 3, 10, 11, 3, 3]);
    expect(Array.from(batch.positions)).toEqual([0, 1, 2, 3, 0, 0, 0, 0, 0, 1, 0, 0]);
    expect(Array.from(batch.targets!)).toEqual([6, 7, 8, 3, 3, 3, 3, 3, 11, 3, 3, 3]);
    expect(Array.from(batch.weights!)).toEqual([0, 1, 0.5, 0, 0, 0, 0, 0, 1, 0, 0, 0]);
    expect(batch.tokens).toBeInstanceOf(Int32Array);
    expect(batch.weights).toBeInstanceOf(Float32Array);
  });

  it('gives a single full row no padding and weights every target 1 without lossWeights', () => {
    // Act
    const batch = padSequences([{ tokens: Int32Array.from([1, 2, 3]) }], 0);

    // Assess
    expect(batch).toEqual({
      batch: 1,
      length: 3,
      tokens: Int32Array.from([1, 2, 3]),
      positions: Int32Array.from([0, 1, 2]),
      targets: Int32Array.from([2, 3, 0]),
      weights: Float32Array.from([1, 1, 0]),
    });
  });

  it('passes a check against the vocabulary', () => {
    // Prepare
    const batch = padSequences([{ tokens: [1, 2, 3] }, { tokens: [4] }], 0);

    // Act and Assess
    expect(() => checkBatch(batch, 5)).not.toThrow();
  });
});

describe('attentionWindows', () => {
  // Two rows of 6: the first packs sequences of 3 and 3, the second one sequence of 4 and 2 padding.
  const batch: TokenBatch = {
    batch: 2,
    length: 6,
    tokens: new Int32Array(12),
    positions: Int32Array.from([0, 1, 2, 0, 1, 2, 0, 1, 2, 3, 0, 0]),
  };

  it('lets token t see its own sequence from t - position to t without a sliding window', () => {
    // Act
    const { start, end } = attentionWindows(batch);

    // Assess
    expect(Array.from(start)).toEqual([0, 0, 0, 3, 3, 3, 0, 0, 0, 0, 4, 5]);
    expect(Array.from(end)).toEqual([0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 5]);
  });

  it('starts at t - min(position, W - 1) with a sliding window of W', () => {
    // Act
    const two = attentionWindows(batch, 2);
    const three = attentionWindows(batch, 3);
    const one = attentionWindows(batch, 1);
    const wide = attentionWindows(batch, 100);

    // Assess
    expect(Array.from(two.start)).toEqual([0, 0, 1, 3, 3, 4, 0, 0, 1, 2, 4, 5]);
    expect(Array.from(three.start)).toEqual([0, 0, 0, 3, 3, 3, 0, 0, 0, 1, 4, 5]);
    expect(Array.from(one.start)).toEqual([0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 5]);
    expect(Array.from(wide.start)).toEqual(Array.from(attentionWindows(batch).start));
    expect(Array.from(two.end)).toEqual([0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 5]);
  });

  it('treats a null sliding window as none', () => {
    // Act and Assess
    expect(attentionWindows(batch, null)).toEqual(attentionWindows(batch));
  });
});

describe('checkBatch', () => {
  function valid(): TokenBatch {
    return {
      batch: 2,
      length: 3,
      tokens: Int32Array.from([1, 2, 3, 4, 0, 0]),
      positions: Int32Array.from([0, 1, 2, 0, 0, 0]),
      targets: Int32Array.from([2, 3, 0, 0, 0, 0]),
      weights: Float32Array.from([1, 1, 0, 0, 0, 0]),
    };
  }

  it.each([
    [{ batch: 0 }, 'a batch needs at least one row of one token, got 0 x 3'],
    [{ length: 0 }, 'a batch needs at least one row of one token, got 2 x 0'],
    [{ batch: 1.5 }, 'a batch needs at least one row of one token, got 1.5 x 3'],
    [{ tokens: Int32Array.from([1, 2, 3, 4, 0]) }, 'batch tokens has 5 entries, expected 6'],
    [{ positions: new Int32Array(7) }, 'batch positions has 7 entries, expected 6'],
    [{ targets: new Int32Array(3) }, 'batch targets has 3 entries, expected 6'],
    [{ weights: new Float32Array(12) }, 'batch weights has 12 entries, expected 6'],
    [{ tokens: Int32Array.from([1, 2, 10, 4, 0, 0]) }, 'token id 10 at 2 is outside the vocabulary of 10'],
    [{ tokens: Int32Array.from([1, 2, 3, -1, 0, 0]) }, 'token id -1 at 3 is outside the vocabulary of 10'],
    [{ targets: Int32Array.from([2, 3, 0, 0, 12, 0]) }, 'target id 12 at 4 is outside the vocabulary of 10'],
    [{ targets: Int32Array.from([-2, 3, 0, 0, 0, 0]) }, 'target id -2 at 0 is outside the vocabulary of 10'],
    [
      { positions: Int32Array.from([0, 2, 2, 0, 0, 0]) },
      "position 2 at row offset 1 reaches before the row's start",
    ],
    [
      { positions: Int32Array.from([0, 1, 2, 1, 0, 0]) },
      "position 1 at row offset 0 reaches before the row's start",
    ],
    [
      { positions: Int32Array.from([0, 1, 2, 0, -1, 0]) },
      "position -1 at row offset 1 reaches before the row's start",
    ],
  ] as const)('refuses %o', (change, message) => {
    // Prepare
    const batch = { ...valid(), ...change };

    // Act and Assess
    expect(() => checkBatch(batch, 10)).toThrow(new EngineError(message));
    expect(() => checkBatch(batch, 10)).toThrow(EngineError);
  });

  it('accepts a batch without targets and weights, for generation', () => {
    // Prepare
    const batch: TokenBatch = {
      batch: 1,
      length: 2,
      tokens: Int32Array.from([0, 9]),
      positions: new Int32Array(2),
    };

    // Act and Assess
    expect(() => checkBatch(batch, 10)).not.toThrow();
  });
});

import { describe, expect, it } from 'vitest';
import { packSequences, tokenCounts, unigramLoss } from '../../../demo/pretrain/evaluation';

describe('packSequences', () => {
  it('streams documents with a separator after each and cuts the stream into sequences', () => {
    // Act
    const sequences = packSequences([[1, 2, 3], [4], [5, 6]], 9, 3);

    // Assess
    expect(sequences.map((sequence) => Array.from(sequence.tokens))).toEqual([
      [1, 2, 3],
      [9, 4, 9],
      [5, 6, 9],
    ]);
    expect(Array.from(sequences[0]?.lossWeights ?? [])).toEqual([1, 1, 1]);
  });

  it('drops a last sequence of one token, which has no target', () => {
    // Act
    const sequences = packSequences([[1, 2]], 9, 2);

    // Assess
    expect(sequences.map((sequence) => Array.from(sequence.tokens))).toEqual([[1, 2]]);
  });
});

describe('unigramLoss', () => {
  it('scores the targets with add-one smoothed frequencies', () => {
    // Prepare
    const counts = tokenCounts([[0, 0, 1]], 2, 4);
    const sequences = packSequences([[0, 1, 3]], 2, 4);

    // Act
    const loss = unigramLoss(counts, sequences);

    // Assess
    // counts 2, 1, 1, 0 over 4 tokens; p = 3/8, 2/8, 2/8, 1/8; targets 1, 3, 2.
    expect(Array.from(counts)).toEqual([2, 1, 1, 0]);
    expect(loss).toBeCloseTo(-(Math.log(2 / 8) + Math.log(1 / 8) + Math.log(2 / 8)) / 3, 12);
  });
});

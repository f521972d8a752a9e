import { describe, expect, it } from 'vitest';
import type { Hyperparameters } from '../../../lib/core/schemas';
import { TrainerInputError } from '../../../trainer/src/runtime/errors';
import {
  BASE_LEARNING_RATES,
  learningRateFor,
  resolveHyperparameters,
} from '../../../trainer/src/runtime/hyperparameters';

const ALL_AUTO: Hyperparameters = { n_epochs: 'auto', batch_size: 'auto', learning_rate_multiplier: 'auto' };

describe('resolveHyperparameters: n_epochs "auto" (the cookbook rule)', () => {
  it.each([
    // examples x 3 under 100: floor(100 / examples), at most 25
    [1, 25],
    [3, 25],
    [4, 25],
    [5, 20],
    [33, 3],
    // 100 to 25,000 examples seen: 3
    [34, 3],
    [1000, 3],
    [8333, 3],
    // examples x 3 over 25,000: floor(25,000 / examples), at least 1
    [8334, 2],
    [12_500, 2],
    [12_501, 1],
    [1_000_000, 1],
  ])('%i training examples train for %i epochs', (examples, epochs) => {
    // Act
    const resolved = resolveHyperparameters(ALL_AUTO, examples);

    // Assess
    expect(resolved.n_epochs).toBe(epochs);
  });

  it('explains each branch in one sentence', () => {
    // Act
    const few = resolveHyperparameters(ALL_AUTO, 5).rules[0];
    const middle = resolveHyperparameters(ALL_AUTO, 40).rules[0];
    const many = resolveHyperparameters(ALL_AUTO, 10_000).rules[0];

    // Assess
    expect(few).toBe(
      'n_epochs 20: 5 training examples x 3 epochs is 15 examples seen, under 100, so epochs rise to 100 / 5 rounded down, at most 25',
    );
    expect(middle).toBe(
      'n_epochs 3: 40 training examples x 3 epochs is 120 examples seen, between 100 and 25,000, so the default of 3 applies',
    );
    expect(many).toBe(
      'n_epochs 2: 10,000 training examples x 3 epochs is 30,000 examples seen, over 25,000, so epochs fall to 25,000 / 10,000 rounded down, at least 1',
    );
  });
});

describe('resolveHyperparameters: batch_size "auto" (about 0.2% of the examples, at most 256)', () => {
  it.each([
    [1, 1],
    [500, 1],
    [501, 2],
    [1500, 3],
    [1501, 4],
    [7500, 15],
    [7501, 16],
    [127_500, 255],
    [127_501, 256],
    [5_000_000, 256],
  ])('%i training examples give batches of %i', (examples, batchSize) => {
    // Act
    const resolved = resolveHyperparameters(ALL_AUTO, examples);

    // Assess
    expect(resolved.batch_size).toBe(batchSize);
  });

  it('says how the batch size was chosen', () => {
    // Act
    const resolved = resolveHyperparameters(ALL_AUTO, 1501);

    // Assess
    expect(resolved.rules[1]).toBe(
      'batch_size 4: about 0.2% of the 1,501 training examples, rounded up, between 1 and 256',
    );
  });
});

describe('resolveHyperparameters: learning_rate_multiplier "auto" (0.05, 0.1 or 0.2 by final batch size)', () => {
  it.each([
    [1, 0.05],
    [3, 0.05],
    [4, 0.1],
    [15, 0.1],
    [16, 0.2],
    [256, 0.2],
  ])('a batch size of %i takes a multiplier of %f', (batchSize, multiplier) => {
    // Act
    const resolved = resolveHyperparameters({ ...ALL_AUTO, batch_size: batchSize }, 100);

    // Assess
    expect(resolved.learning_rate_multiplier).toBe(multiplier);
  });

  it('follows the auto batch size across its steps', () => {
    // Act
    const small = resolveHyperparameters(ALL_AUTO, 1500);
    const medium = resolveHyperparameters(ALL_AUTO, 1501);
    const mediumTop = resolveHyperparameters(ALL_AUTO, 7500);
    const large = resolveHyperparameters(ALL_AUTO, 7501);

    // Assess
    expect([small.batch_size, small.learning_rate_multiplier]).toEqual([3, 0.05]);
    expect([medium.batch_size, medium.learning_rate_multiplier]).toEqual([4, 0.1]);
    expect([mediumTop.batch_size, mediumTop.learning_rate_multiplier]).toEqual([15, 0.1]);
    expect([large.batch_size, large.learning_rate_multiplier]).toEqual([16, 0.2]);
  });

  it('says which band the batch size fell in', () => {
    // Act
    const small = resolveHyperparameters(ALL_AUTO, 40).rules[2];
    const medium = resolveHyperparameters({ ...ALL_AUTO, batch_size: 8 }, 40).rules[1];
    const large = resolveHyperparameters({ ...ALL_AUTO, batch_size: 16 }, 40).rules[1];

    // Assess
    expect(small).toBe(
      'learning_rate_multiplier 0.05: the batch size of 1 is under 4; larger batches take larger multipliers (0.05, 0.1, 0.2)',
    );
    expect(medium).toBe(
      'learning_rate_multiplier 0.1: the batch size of 8 is from 4 to 15; larger batches take larger multipliers (0.05, 0.1, 0.2)',
    );
    expect(large).toBe(
      'learning_rate_multiplier 0.2: the batch size of 16 is 16 or more; larger batches take larger multipliers (0.05, 0.1, 0.2)',
    );
  });
});

describe('resolveHyperparameters: given values and bad counts', () => {
  it('keeps every value the request gives and writes no rule for it', () => {
    // Act
    const resolved = resolveHyperparameters(
      { n_epochs: 7, batch_size: 2, learning_rate_multiplier: 1.5 },
      20,
    );

    // Assess
    expect(resolved).toEqual({ n_epochs: 7, batch_size: 2, learning_rate_multiplier: 1.5, rules: [] });
  });

  it('resolves only the values left "auto"', () => {
    // Act
    const resolved = resolveHyperparameters({ ...ALL_AUTO, n_epochs: 4 }, 2000);

    // Assess
    expect(resolved.n_epochs).toBe(4);
    expect(resolved.batch_size).toBe(4);
    expect(resolved.learning_rate_multiplier).toBe(0.1);
    expect(resolved.rules).toHaveLength(2);
    expect(resolved.rules[0]).toMatch(/^batch_size 4: /);
    expect(resolved.rules[1]).toMatch(/^learning_rate_multiplier 0\.1: /);
  });

  it('refuses an empty training set as bad input', () => {
    // Act
    const resolve = () => resolveHyperparameters(ALL_AUTO, 0);

    // Assess
    expect(resolve).toThrow(TrainerInputError);
    expect(resolve).toThrow('The training set has no examples, so no hyperparameter can be chosen');
    expect(resolve).toThrow(
      expect.objectContaining({ code: 'invalid_training_file', param: 'training_file' }),
    );
  });

  it.each([[-1], [2.5], [Number.NaN]])('refuses %f as a count of examples', (examples) => {
    // Act
    const resolve = () => resolveHyperparameters(ALL_AUTO, examples);

    // Assess
    expect(resolve).toThrow(RangeError);
    expect(resolve).toThrow(`trainExamples must be a whole number of examples, not ${examples}`);
  });
});

describe('learningRateFor', () => {
  it('gives the standard recipe rates at the middle auto multiplier', () => {
    // Act
    const lora = learningRateFor('lora', 0.1);
    const full = learningRateFor('full', 0.1);
    const partial = learningRateFor('partial', 0.1);

    // Assess
    expect(lora).toBeCloseTo(2e-4, 12);
    expect(full).toBeCloseTo(2e-5, 12);
    expect(partial).toBeCloseTo(2e-5, 12);
  });

  it('spans the auto range of each method', () => {
    // Act
    const loraRange = [learningRateFor('lora', 0.05), learningRateFor('lora', 0.2)];
    const fullRange = [learningRateFor('full', 0.05), learningRateFor('full', 0.2)];

    // Assess
    expect(loraRange[0]).toBeCloseTo(1e-4, 12);
    expect(loraRange[1]).toBeCloseTo(4e-4, 12);
    expect(fullRange[0]).toBeCloseTo(1e-5, 12);
    expect(fullRange[1]).toBeCloseTo(4e-5, 12);
  });

  it('scales the base by any given multiplier', () => {
    // Act
    const rate = learningRateFor('lora', 2);

    // Assess
    expect(rate).toBeCloseTo(2 * BASE_LEARNING_RATES.lora, 12);
    expect(rate).toBeCloseTo(4e-3, 12);
  });

  it.each([[0], [-0.1], [Number.POSITIVE_INFINITY], [Number.NaN]])(
    'refuses a multiplier of %f',
    (multiplier) => {
      // Act
      const rate = () => learningRateFor('full', multiplier);

      // Assess
      expect(rate).toThrow(`learning_rate_multiplier must be a positive number, not ${multiplier}`);
    },
  );

  it('refuses a method it has no base for', () => {
    // Act
    const rate = () => learningRateFor('adapter' as 'lora', 0.1);

    // Assess
    expect(rate).toThrow("No base learning rate for training method 'adapter'");
  });
});

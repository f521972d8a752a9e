import { describe, expect, it } from 'vitest';
import { TrainingConfigError } from '../../../trainer/src/engine/errors';
import {
  checkSchedule,
  type LearningRateSchedule,
  learningRateAt,
} from '../../../trainer/src/engine/schedule';

/*
 * transformers.optimization's lr_lambda functions, written out from its source as it reads, with
 * its step index `current` (0 for the first optimizer step) and the multiplier of the peak rate.
 */
function transformersCosine(current: number, warmup: number, total: number): number {
  if (current < warmup) return current / Math.max(1, warmup);
  const progress = (current - warmup) / Math.max(1, total - warmup);
  const cycles = 0.5;
  return Math.max(0, 0.5 * (1 + Math.cos(Math.PI * cycles * 2 * progress)));
}

function transformersLinear(current: number, warmup: number, total: number): number {
  if (current < warmup) return current / Math.max(1, warmup);
  return Math.max(0, (total - current) / Math.max(1, total - warmup));
}

function transformersConstant(current: number, warmup: number): number {
  if (current < warmup) return current / Math.max(1, warmup);
  return 1;
}

function ratesOver(schedule: LearningRateSchedule, steps: number): number[] {
  return Array.from({ length: steps }, (_, i) => learningRateAt(schedule, i + 1));
}

function expectClose(actual: readonly number[], expected: readonly number[]): void {
  expect(actual).toHaveLength(expected.length);
  for (let i = 0; i < expected.length; i++) {
    expect(Math.abs(actual[i]! - expected[i]!), `step ${i + 1}: ${actual[i]} vs ${expected[i]}`).toBeLessThan(
      1e-15,
    );
  }
}

describe('learningRateAt', () => {
  it('warms up over 2 of 10 steps then follows the cosine: 0, 0.5, 1, 0.962, ...', () => {
    // Prepare
    const peak = 3e-4;
    const schedule: LearningRateSchedule = { peak, warmupSteps: 2, totalSteps: 10, decay: 'cosine' };
    const expected = Array.from({ length: 10 }, (_, i) => peak * transformersCosine(i, 2, 10));

    // Act
    const rates = ratesOver(schedule, 10);

    // Assess
    expectClose(rates, expected);
    expect(rates.slice(0, 3)).toEqual([0, peak * 0.5, peak]);
    expect(rates[3]! / peak).toBeCloseTo(0.5 * (1 + Math.cos(Math.PI / 8)), 12);
    expect(rates[3]! / peak).toBeCloseTo(0.96194, 5);
    expect(rates[9]! / peak).toBeCloseTo(0.5 * (1 + Math.cos((Math.PI * 7) / 8)), 12);
  });

  it('matches get_cosine_schedule_with_warmup over a longer table, reaching 0 at step total + 1', () => {
    // Prepare
    const schedule: LearningRateSchedule = { peak: 1, warmupSteps: 7, totalSteps: 50, decay: 'cosine' };
    const expected = Array.from({ length: 55 }, (_, i) => transformersCosine(i, 7, 50));

    // Act
    const rates = ratesOver(schedule, 55);

    // Assess
    expectClose(rates, expected);
    expect(rates[49]!).toBeCloseTo(0.5 * (1 + Math.cos((Math.PI * 42) / 43)), 15);
    expect(rates[50]).toBe(0);
  });

  it('matches get_linear_schedule_with_warmup: warmup 3 of 12, then down to 0', () => {
    // Prepare
    const peak = 2e-4;
    const schedule: LearningRateSchedule = { peak, warmupSteps: 3, totalSteps: 12, decay: 'linear' };
    const expected = Array.from({ length: 14 }, (_, i) => peak * transformersLinear(i, 3, 12));

    // Act
    const rates = ratesOver(schedule, 14);

    // Assess
    expectClose(rates, expected);
    expect(rates.slice(0, 5).map((rate) => rate / peak)).toEqual([0, 1 / 3, 2 / 3, 1, 8 / 9]);
    expect(rates[11]! / peak).toBeCloseTo(1 / 9, 14);
    expect(rates[12]).toBe(0);
    expect(rates[13]).toBe(0);
  });

  it.each([0, -1, 1.5])('refuses step %d: optimizer steps count from 1', (step) => {
    // Prepare
    const schedule = { peak: 1, warmupSteps: 0, totalSteps: 10, decay: 'cosine' } as const;

    // Act and Assess
    expect(() => learningRateAt(schedule, step)).toThrow(
      new TrainingConfigError('step', `optimizer steps count from 1, got ${step}`),
    );
  });

  it('stays at the peak after warmup when the decay is constant', () => {
    // Prepare
    const schedule: LearningRateSchedule = { peak: 0.5, warmupSteps: 4, totalSteps: 8, decay: 'constant' };
    const expected = Array.from({ length: 10 }, (_, i) => 0.5 * transformersConstant(i, 4));

    // Act
    const rates = ratesOver(schedule, 10);

    // Assess
    expect(rates).toEqual(expected);
    expect(rates).toEqual([0, 0.125, 0.25, 0.375, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5]);
  });

  it('starts at the peak without warmup, for every decay shape', () => {
    // Prepare
    const base = { peak: 1e-3, warmupSteps: 0, totalSteps: 4 };

    // Act
    const cosine = ratesOver({ ...base, decay: 'cosine' }, 5);
    const linear = ratesOver({ ...base, decay: 'linear' }, 5);
    const constant = ratesOver({ ...base, decay: 'constant' }, 5);

    // Assess
    expectClose(
      cosine,
      Array.from({ length: 5 }, (_, i) => 1e-3 * transformersCosine(i, 0, 4)),
    );
    expectClose(
      linear,
      Array.from({ length: 5 }, (_, i) => 1e-3 * transformersLinear(i, 0, 4)),
    );
    expect(cosine[0]).toBe(1e-3);
    expect(linear).toEqual([1e-3, 0.75e-3, 0.5e-3, 0.25e-3, 0]);
    expect(constant).toEqual([1e-3, 1e-3, 1e-3, 1e-3, 1e-3]);
  });

  it('warms up over every step when warmup equals the total, and a single step gets rate 0', () => {
    // Act
    const all = ratesOver({ peak: 1, warmupSteps: 4, totalSteps: 4, decay: 'cosine' }, 4);
    const single = learningRateAt({ peak: 1, warmupSteps: 1, totalSteps: 1, decay: 'linear' }, 1);

    // Assess
    expect(all).toEqual([0, 0.25, 0.5, 0.75]);
    expect(single).toBe(0);
  });
});

describe('checkSchedule', () => {
  const valid: LearningRateSchedule = { peak: 1e-4, warmupSteps: 2, totalSteps: 10, decay: 'cosine' };

  it('returns a valid schedule as it is, warmup 0 and warmup = total included', () => {
    // Act and Assess
    expect(checkSchedule(valid)).toBe(valid);
    expect(checkSchedule({ ...valid, warmupSteps: 0 }).warmupSteps).toBe(0);
    expect(checkSchedule({ ...valid, warmupSteps: 10 }).warmupSteps).toBe(10);
  });

  it.each([
    [{ peak: 0 }, 'learning_rate', 'learning rate must be a positive number, got 0'],
    [{ peak: -1e-4 }, 'learning_rate', 'learning rate must be a positive number, got -0.0001'],
    [{ peak: Number.NaN }, 'learning_rate', 'learning rate must be a positive number, got NaN'],
    [
      { peak: Number.POSITIVE_INFINITY },
      'learning_rate',
      'learning rate must be a positive number, got Infinity',
    ],
    [{ totalSteps: 0, warmupSteps: 0 }, 'total_steps', 'total steps must be a positive integer, got 0'],
    [{ totalSteps: 2.5 }, 'total_steps', 'total steps must be a positive integer, got 2.5'],
    [{ warmupSteps: -1 }, 'warmup_steps', 'warmup steps must be between 0 and 10, got -1'],
    [{ warmupSteps: 11 }, 'warmup_steps', 'warmup steps must be between 0 and 10, got 11'],
    [{ warmupSteps: 1.5 }, 'warmup_steps', 'warmup steps must be between 0 and 10, got 1.5'],
  ] as const)('refuses %o naming %s', (change, setting, message) => {
    // Prepare
    const schedule = { ...valid, ...change };

    // Act
    let error: unknown;
    try {
      checkSchedule(schedule);
    } catch (caught) {
      error = caught;
    }

    // Assess
    expect(error).toBeInstanceOf(TrainingConfigError);
    expect((error as TrainingConfigError).message).toBe(message);
    expect((error as TrainingConfigError).setting).toBe(setting);
  });
});

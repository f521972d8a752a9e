import { describe, expect, it } from 'vitest';
import { EngineError } from '../../../trainer/src/engine/errors';
import { Random } from '../../../trainer/src/engine/random';

/*
 * xoshiro128** reference outputs: Blackman and Vigna's published next() for xoshiro128**, compiled
 * with g++ 12 (uint32_t arithmetic), state set directly and next() called 8 times:
 *   result = rotl(s[1] * 5, 7) * 9; t = s[1] << 9; s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2];
 *   s[0] ^= s[3]; s[2] ^= t; s[3] = rotl(s[3], 11);
 */
const REFERENCE = [
  {
    state: [1, 2, 3, 4],
    outputs: [11520, 0, 5927040, 70819200, 2031721883, 1637235492, 1287239034, 3734860849],
    stateAfter: [857776784, 3957087773, 2428778008, 3837013768],
  },
  {
    state: [0x9e3779b9, 0x243f6a88, 0xb7e15162, 0xdeadbeef],
    outputs: [2463954730, 5524658, 74256371, 1905451993, 3123413897, 314453775, 1263677054, 1531511215],
    stateAfter: [264774372, 2609163946, 423996269, 305665546],
  },
];

function draws(random: Random, count: number): number[] {
  return Array.from({ length: count }, () => random.nextUint32());
}

describe('Random (xoshiro128**)', () => {
  it.each(REFERENCE)('draws the reference outputs from state %#', ({ state, outputs, stateAfter }) => {
    // Prepare
    const random = Random.fromState(state);

    // Act
    const drawn = draws(random, 8);

    // Assess
    expect(drawn).toEqual(outputs);
    expect(random.state()).toEqual(stateAfter);
  });

  it('gives the same stream for the same seed and a different one for another seed', () => {
    // Act
    const first = draws(Random.fromSeed(42), 64);
    const second = draws(Random.fromSeed(42), 64);
    const other = draws(Random.fromSeed(43), 64);

    // Assess
    expect(second).toEqual(first);
    expect(other.filter((value, i) => value === first[i])).toHaveLength(0);
    expect(
      Random.fromSeed(0)
        .state()
        .some((word) => word !== 0),
    ).toBe(true);
  });

  it('reads a seed as an unsigned 32-bit integer', () => {
    // Act and Assess
    expect(Random.fromSeed(-1).state()).toEqual(Random.fromSeed(0xffffffff).state());
    expect(Random.fromSeed(2 ** 32 + 5).state()).toEqual(Random.fromSeed(5).state());
  });

  it('continues the same stream from a saved state', () => {
    // Prepare
    const original = Random.fromSeed(1234);
    draws(original, 5);
    original.normal();
    const saved = original.state();

    // Act
    const restored = Random.fromState(saved);

    // Assess
    expect(restored.state()).toEqual(saved);
    expect(draws(restored, 20)).toEqual(draws(original, 20));
    expect(restored.nextFloat()).toBe(original.nextFloat());
  });

  it('hands out a copy of its state, which later draws and edits do not share', () => {
    // Prepare
    const random = Random.fromState([1, 2, 3, 4]);

    // Act
    const state = random.state();
    state[0] = 99;
    random.nextUint32();

    // Assess
    expect(state).toEqual([99, 2, 3, 4]);
    expect(random.state()).toEqual([7, 0, 1026, 12288]);
  });

  it.each([
    [[1, 2, 3], '[1,2,3]'],
    [[1, 2, 3, 4, 5], '[1,2,3,4,5]'],
    [[1, 2, 3, -1], '[1,2,3,-1]'],
    [[1, 2, 3, 2 ** 32], '[1,2,3,4294967296]'],
    [[1, 2, 3, 0.5], '[1,2,3,0.5]'],
    [[1, 2, 3, Number.NaN], '[1,2,3,null]'],
    [[0, 0, 0, 0], '[0,0,0,0]'],
  ])('refuses the state %o', (state, shown) => {
    // Act and Assess
    expect(() => Random.fromState(state)).toThrow(
      new EngineError(`a generator state is four unsigned 32-bit integers, not all zero, got ${shown}`),
    );
    expect(() => Random.fromState(state)).toThrow(EngineError);
  });

  it('builds nextFloat from the top 27 and 26 bits of two draws', () => {
    // Prepare: the first two reference draws are 11520 and 0.
    const random = Random.fromState([1, 2, 3, 4]);

    // Act
    const value = random.nextFloat();

    // Assess
    expect(value).toBe(((11520 >>> 5) * 2 ** 26 + (0 >>> 6)) / 2 ** 53);
    expect(value).toBe(360 / 2 ** 27);
  });

  it('draws floats in [0, 1) with mean 1/2 and variance 1/12', () => {
    // Prepare
    const random = Random.fromSeed(7);
    const count = 20000;

    // Act
    const values = Array.from({ length: count }, () => random.nextFloat());

    // Assess
    const mean = values.reduce((sum, value) => sum + value, 0) / count;
    const variance = values.reduce((sum, value) => sum + (value - mean) ** 2, 0) / count;
    expect(Math.min(...values)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...values)).toBeLessThan(1);
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.01);
    expect(Math.abs(variance - 1 / 12)).toBeLessThan(0.003);
  });

  it('draws normals with mean 0 and variance 1 over 20000 draws', () => {
    // Prepare
    const random = Random.fromSeed(11);
    const count = 20000;

    // Act
    const values = Array.from({ length: count }, () => random.normal());

    // Assess: standard errors are 0.007 for the mean and 0.01 for the variance.
    const mean = values.reduce((sum, value) => sum + value, 0) / count;
    const variance = values.reduce((sum, value) => sum + (value - mean) ** 2, 0) / count;
    const beyondTwo = values.filter((value) => Math.abs(value) > 2).length / count;
    expect(values.every(Number.isFinite)).toBe(true);
    expect(Math.abs(mean)).toBeLessThan(0.03);
    expect(Math.abs(variance - 1)).toBeLessThan(0.04);
    expect(Math.abs(beyondTwo - 0.0455)).toBeLessThan(0.006);
  });

  it('draws uniform values and integers within their bounds', () => {
    // Prepare
    const random = Random.fromSeed(5);

    // Act
    const uniforms = Array.from({ length: 2000 }, () => random.uniform(-0.25, 0.75));
    const integers = Array.from({ length: 2000 }, () => random.below(6));

    // Assess
    expect(Math.min(...uniforms)).toBeGreaterThanOrEqual(-0.25);
    expect(Math.max(...uniforms)).toBeLessThan(0.75);
    expect(integers.every(Number.isInteger)).toBe(true);
    expect([...new Set(integers)].sort()).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('shuffles in place into a permutation, the same one for the same seed', () => {
    // Prepare
    const identity = Array.from({ length: 100 }, (_, i) => i);
    const items = [...identity];

    // Act
    const shuffled = Random.fromSeed(3).shuffle(items);
    const again = Random.fromSeed(3).shuffle([...identity]);

    // Assess
    expect(shuffled).toBe(items);
    expect([...shuffled].sort((a, b) => a - b)).toEqual(identity);
    expect(shuffled).not.toEqual(identity);
    expect(again).toEqual(shuffled);
    expect(Random.fromSeed(3).shuffle([])).toEqual([]);
    expect(Random.fromSeed(3).shuffle(['only'])).toEqual(['only']);
  });

  it('reaches every position with Fisher-Yates: each of 3! orders of 3 items appears about equally', () => {
    // Prepare
    const random = Random.fromSeed(21);
    const counts = new Map<string, number>();

    // Act
    for (let i = 0; i < 6000; i++) {
      const order = random.shuffle(['a', 'b', 'c']).join('');
      counts.set(order, (counts.get(order) ?? 0) + 1);
    }

    // Assess: 1000 expected each, standard deviation about 29.
    expect([...counts.keys()].sort()).toEqual(['abc', 'acb', 'bac', 'bca', 'cab', 'cba']);
    for (const count of counts.values()) expect(Math.abs(count - 1000)).toBeLessThan(120);
  });
});

import { describe, expect, it } from 'vitest';
import { dropoutDraw } from '../../../../trainer/src/engine/backend';
import { BufferError } from '../../../../trainer/src/engine/errors';
import { ReferenceBackend } from '../../../../trainer/src/engine/reference';

/*
 * dropoutDraw(seed, i) = lowbias32(lowbias32(i) + seed), lowbias32 as Chris Wellons publishes it
 * (x ^= x >> 16; x *= 0x7feb352d; x ^= x >> 15; x *= 0x846ca68b; x ^= x >> 16), compiled with g++ 12
 * on uint32_t and printed for i = 0..5: the values every back end's mask must reproduce.
 */
const DRAWS = [
  { seed: 0, values: [0, 1492470133, 911671261, 1736833618, 2413389572, 3568984768] },
  { seed: 0xdeadbeef, values: [3861431939, 3346199191, 2266972465, 501626647, 706641688, 901743828] },
];

function maskOf(backend: ReferenceBackend, length: number, probability: number, seed: number) {
  const mask = backend.allocate('f32', length);
  backend.dropoutMask(mask, probability, seed);
  return backend.elements(mask);
}

describe('dropoutDraw', () => {
  it.each(DRAWS)('draws the lowbias32 reference values for seed $seed', ({ seed, values }) => {
    // Act
    const drawn = values.map((_, i) => dropoutDraw(seed, i));

    // Assess
    expect(drawn).toEqual(values);
  });
});

describe('reference dropoutMask', () => {
  it('drops element i exactly when dropoutDraw(seed, i) < p * 2^32 and scales the rest by 1 / (1 - p)', () => {
    // Prepare
    const backend = new ReferenceBackend('f64');
    const probability = 0.3;
    const seed = 0xdeadbeef;

    // Act
    const mask = maskOf(backend, 4096, probability, seed);

    // Assess
    const expected = Array.from({ length: 4096 }, (_, i) =>
      dropoutDraw(seed, i) < probability * 2 ** 32 ? 0 : 1 / (1 - probability),
    );
    expect(Array.from(mask)).toEqual(expected);
    // The reference draws above: 2266972465 / 2^32 = 0.528, 501626647 / 2^32 = 0.117.
    expect(mask[2]).toBe(1 / 0.7);
    expect(mask[3]).toBe(0);
  });

  it('stores 1 / (1 - p) rounded to f32 in an f32 buffer', () => {
    // Prepare
    const backend = new ReferenceBackend('f32');

    // Act
    const mask = maskOf(backend, 1000, 0.1, 9);

    // Assess
    expect(new Set(mask)).toEqual(new Set([0, Math.fround(1 / 0.9)]));
  });

  it('keeps 75% of 100000 elements at p = 0.25, within 0.5%', () => {
    // Prepare
    const backend = new ReferenceBackend('f32');

    // Act
    const mask = maskOf(backend, 100_000, 0.25, 12345);

    // Assess: the standard error of the kept share is 0.14%.
    let kept = 0;
    let sum = 0;
    for (const value of mask) {
      if (value !== 0) kept += 1;
      sum += value;
    }
    expect(Math.abs(kept / mask.length - 0.75)).toBeLessThan(0.005);
    expect(Math.abs(sum / mask.length - 1)).toBeLessThan(0.007);
  });

  it('draws the same mask for the same seed and a different one for the next seed', () => {
    // Prepare
    const backend = new ReferenceBackend('f32');

    // Act
    const first = maskOf(backend, 10_000, 0.25, 77);
    const second = maskOf(backend, 10_000, 0.25, 77);
    const other = maskOf(backend, 10_000, 0.25, 78);

    // Assess: two independent masks disagree where exactly one drops, 2 p (1 - p) = 37.5% of the time.
    expect(second).toEqual(first);
    const differing = first.filter((value, i) => value !== other[i]).length / first.length;
    expect(Math.abs(differing - 0.375)).toBeLessThan(0.02);
  });

  it('keeps every element with weight exactly 1 at probability 0', () => {
    // Prepare
    const backend = new ReferenceBackend('f32');
    const mask = backend.allocate('f32', 500);
    backend.fill(mask, 7);

    // Act
    backend.dropoutMask(mask, 0, 0);

    // Assess
    expect(backend.elements(mask).every((value) => value === 1)).toBe(true);
  });

  it.each([1, 1.5, -0.1, Number.NaN])('refuses probability %s', (probability) => {
    // Prepare
    const backend = new ReferenceBackend('f32');
    const mask = backend.allocate('f32', 4);

    // Act and Assess
    expect(() => backend.dropoutMask(mask, probability, 1)).toThrow(
      new BufferError(`dropout probability must be in [0, 1), got ${probability}`),
    );
    expect(() => backend.dropoutMask(mask, probability, 1)).toThrow(BufferError);
  });
});

describe('reference clipToNorm', () => {
  it('scales by maxNorm / (norm + 1e-6) when the norm is above maxNorm', () => {
    // Prepare
    const backend = new ReferenceBackend('f64');
    const x = backend.allocate('f32', 3);
    backend.write(x, [3, -4, 12]);
    const sum = backend.allocate('f32', 1);
    backend.sumOfSquares(sum, x);

    // Act
    backend.clipToNorm(x, sum, 2);

    // Assess
    const factor = 2 / (13 + 1e-6);
    expect(backend.elements(sum)[0]).toBe(169);
    expect(Array.from(backend.elements(x))).toEqual([3 * factor, -4 * factor, 12 * factor]);
    expect(Math.hypot(...backend.elements(x))).toBeCloseTo(2, 6);
  });

  it('reads the norm from the sum buffer, so one sum clips every view of a larger buffer alike', () => {
    // Prepare
    const backend = new ReferenceBackend('f64');
    const all = backend.allocate('f32', 4);
    backend.write(all, [1, 2, 2, 4]);
    const sum = backend.allocate('f32', 1);
    backend.sumOfSquares(sum, all);
    const first = backend.view(all, 0, 2);
    const second = backend.view(all, 2, 2);

    // Act
    backend.clipToNorm(first, sum, 1);
    backend.clipToNorm(second, sum, 1);

    // Assess: the global norm is 5; each half's own norm (sqrt 5, sqrt 20) would give other factors.
    const factor = 1 / (5 + 1e-6);
    expect(Array.from(backend.elements(all))).toEqual([factor, 2 * factor, 2 * factor, 4 * factor]);
  });

  it('leaves x untouched when maxNorm / (norm + 1e-6) is at least 1', () => {
    // Prepare
    const backend = new ReferenceBackend('f64');
    const x = backend.allocate('f32', 2);
    backend.write(x, [3, 4]);
    const sum = backend.allocate('f32', 1);
    backend.write(sum, [25]);

    // Act
    backend.clipToNorm(x, sum, 10);
    backend.clipToNorm(x, sum, 5 + 1e-6);

    // Assess
    expect(Array.from(backend.elements(x))).toEqual([3, 4]);
  });

  it('scales by 5 / (5 + 1e-6) when the norm equals maxNorm, as clip_grad_norm_ does', () => {
    // Prepare
    const backend = new ReferenceBackend('f64');
    const x = backend.allocate('f32', 2);
    backend.write(x, [3, 4]);
    const sum = backend.allocate('f32', 1);
    backend.write(sum, [25]);

    // Act
    backend.clipToNorm(x, sum, 5);

    // Assess
    const factor = 5 / (5 + 1e-6);
    expect(Array.from(backend.elements(x))).toEqual([3 * factor, 4 * factor]);
  });

  it('leaves zero gradients zero', () => {
    // Prepare
    const backend = new ReferenceBackend('f32');
    const x = backend.allocate('f32', 3);
    const sum = backend.allocate('f32', 1);
    backend.sumOfSquares(sum, x);

    // Act
    backend.clipToNorm(x, sum, 1);

    // Assess
    expect(Array.from(backend.elements(x))).toEqual([0, 0, 0]);
  });
});

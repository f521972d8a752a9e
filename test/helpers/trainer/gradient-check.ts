/**
 * Finite-difference gradient checks for the float64 reference back end.
 *
 * A kernel's output is reduced to one scalar by a random projection, L = sum(r * out), so every
 * output element contributes and its gradient with respect to the output is r itself. Each checked
 * input entry is nudged by +-h and the central difference (L(x + h) - L(x - h)) / 2h compared with
 * the analytic gradient.
 */
import { expect } from 'vitest';
import type { Backend, DeviceBuffer, DType } from '../../../trainer/src/engine/backend';
import type { Random } from '../../../trainer/src/engine/random';
import type { FloatArray } from '../../../trainer/src/engine/reference/arrays';

/**
 * In float64 the central difference's truncation error is ~h^2 |L'''| (~1e-12) and its rounding
 * error ~1e-16 |L| / h (~1e-10): both far below the tolerance.
 */
export const FINITE_DIFFERENCE_STEP = 1e-6;

/** The largest {@link GradientComparison.relativeError} a float64 check accepts. */
export const GRADIENT_TOLERANCE = 1e-6;

export interface GradientComparison {
  /**
   * max |analytic - numeric| over the checked entries, divided by the largest |gradient| among
   * them: entries whose gradient is near zero are judged against the tensor's scale, not their own.
   */
  readonly relativeError: number;
  readonly checked: number;
  /** The entry with the largest absolute difference. */
  readonly worst: { readonly index: number; readonly analytic: number; readonly numeric: number };
}

export interface GradientCheck {
  /** Recomputes the scalar from the current contents of `input`. */
  readonly loss: () => number;
  /** The live elements the loss reads (a float64 buffer's elements), nudged in place and restored. */
  readonly input: FloatArray;
  /** The gradient under test, one entry per element of `input`. */
  readonly analytic: ArrayLike<number>;
  /** Which entries to check; all of them by default. */
  readonly indices?: readonly number[];
  readonly step?: number;
}

export function checkGradient(check: GradientCheck): GradientComparison {
  const { loss, input, analytic } = check;
  const step = check.step ?? FINITE_DIFFERENCE_STEP;
  if (analytic.length !== input.length) {
    throw new Error(`analytic gradient has ${analytic.length} entries for an input of ${input.length}`);
  }
  const indices = check.indices ?? Array.from({ length: input.length }, (_, i) => i);
  let largestGradient = 0;
  let largestDifference = -1;
  let worst = { index: -1, analytic: 0, numeric: 0 };
  for (const index of indices) {
    const original = input[index] ?? Number.NaN;
    input[index] = original + step;
    const above = loss();
    input[index] = original - step;
    const below = loss();
    input[index] = original;
    const numeric = (above - below) / (2 * step);
    const expected = analytic[index] ?? Number.NaN;
    const difference = Math.abs(expected - numeric);
    largestGradient = Math.max(largestGradient, Math.abs(numeric), Math.abs(expected));
    // A NaN difference is the worst there is, and stays the worst.
    if (!(difference <= largestDifference) && !Number.isNaN(largestDifference)) {
      largestDifference = difference;
      worst = { index, analytic: expected, numeric };
    }
  }
  // Checking nothing, or a NaN anywhere, fails.
  const relativeError =
    largestDifference === 0
      ? 0
      : largestGradient === 0
        ? Number.POSITIVE_INFINITY
        : largestDifference / largestGradient;
  return {
    relativeError: Number.isNaN(relativeError) ? Number.POSITIVE_INFINITY : relativeError,
    checked: indices.length,
    worst,
  };
}

/** Runs the check and asserts its relative error is below {@link GRADIENT_TOLERANCE}, naming the worst entry. */
export function expectGradient(label: string, check: GradientCheck): GradientComparison {
  const comparison = checkGradient(check);
  const { index, analytic, numeric } = comparison.worst;
  expect(
    comparison.relativeError,
    `${label}: worst entry ${index}, analytic ${analytic}, numeric ${numeric}`,
  ).toBeLessThan(GRADIENT_TOLERANCE);
  return comparison;
}

/** The entry with the largest |value|, then `count` other distinct entries drawn at random. */
export function sampleIndices(values: ArrayLike<number>, count: number, random: Random): number[] {
  let largest = 0;
  for (let i = 1; i < values.length; i++) {
    if (Math.abs(values[i] ?? 0) > Math.abs(values[largest] ?? 0)) largest = i;
  }
  const others = random.shuffle(
    Array.from({ length: values.length }, (_, i) => i).filter((i) => i !== largest),
  );
  return [largest, ...others.slice(0, count)];
}

/** Standard normal draws times `scale`. */
export function randomValues(random: Random, length: number, scale = 1): Float64Array {
  return Float64Array.from({ length }, () => random.normal() * scale);
}

export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += (a[i] ?? Number.NaN) * (b[i] ?? Number.NaN);
  return sum;
}

/** after - before, entry by entry: what a kernel that adds into a gradient added. */
export function added(after: ArrayLike<number>, before: ArrayLike<number>): Float64Array {
  return Float64Array.from(
    { length: after.length },
    (_, i) => (after[i] ?? Number.NaN) - (before[i] ?? Number.NaN),
  );
}

/** A new buffer of `backend` holding `values`. */
export function bufferFrom(backend: Backend, values: ArrayLike<number>, dtype: DType = 'f32'): DeviceBuffer {
  const buffer = backend.allocate(dtype, values.length);
  backend.write(buffer, values);
  return buffer;
}

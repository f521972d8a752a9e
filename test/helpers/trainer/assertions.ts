/** What the trainer tests compare: values within a tolerance, relative errors, bit patterns, rejections. */
import { expect } from 'vitest';

export { largestDifference, relativeError } from './numeric';

/** Asserts equal lengths and |actual - expected| <= `tolerance` entry by entry, naming an entry off. */
export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tolerance = 1e-14): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    expect(
      Math.abs((actual[i] ?? Number.NaN) - (expected[i] ?? Number.NaN)),
      `entry ${i}: ${actual[i]} vs ${expected[i]}`,
    ).toBeLessThanOrEqual(tolerance);
  }
}

/** The float32 values' bit patterns, a view over the same memory: equal bits means equal to the last bit. */
export function bits(data: Float32Array): Uint32Array {
  return new Uint32Array(data.buffer, data.byteOffset, data.length);
}

/** The error `promise` rejects with, asserted to be an `errorClass` if one is given; fails if it resolves. */
export async function failure<E extends Error = Error>(
  promise: Promise<unknown>,
  errorClass?: abstract new (...args: never[]) => E,
): Promise<E> {
  const error = await promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (caught: unknown) => caught,
  );
  if (errorClass !== undefined) expect(error).toBeInstanceOf(errorClass);
  return error as E;
}

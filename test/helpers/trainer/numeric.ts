/** Error measures for comparing numeric results, free of any test framework so scripts can use them. */

/** max |actual - expected| over `expected`'s entries; NaN when either has a NaN or `actual` runs short. */
export function largestDifference(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  let largest = 0;
  for (let i = 0; i < expected.length; i++) {
    largest = Math.max(largest, Math.abs((actual[i] ?? Number.NaN) - (expected[i] ?? Number.NaN)));
  }
  return largest;
}

/** max |value|. */
function largestMagnitude(values: ArrayLike<number>): number {
  let largest = 0;
  for (let i = 0; i < values.length; i++) largest = Math.max(largest, Math.abs(values[i] ?? Number.NaN));
  return largest;
}

/** max |actual - expected| / max |expected|: entries near zero are judged against the tensor's scale. */
export function relativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  return largestDifference(actual, expected) / largestMagnitude(expected);
}

import { describe, expect, it } from 'vitest';
import { Random } from '../../../../trainer/src/engine/random';
import { ReferenceBackend } from '../../../../trainer/src/engine/reference';
import { expectClose } from '../../../helpers/trainer/assertions';
import { bufferFrom, randomValues } from '../../../helpers/trainer/gradient-check';

/** cos and sin tables (P, HD/2) with inv_freq[i] = theta^(-2i / HD). */
function tables(positions: number, headDim: number, theta = 10000): { cos: number[]; sin: number[] } {
  const cos: number[] = [];
  const sin: number[] = [];
  for (let p = 0; p < positions; p++) {
    for (let i = 0; i < headDim / 2; i++) {
      const angle = p * theta ** ((-2 * i) / headDim);
      cos.push(Math.cos(angle));
      sin.push(Math.sin(angle));
    }
  }
  return { cos, sin };
}

describe('reference RoPE', () => {
  it('rotates a pair by a quarter turn', () => {
    // Prepare: HD = 2, position 1 at angle pi / 2
    const backend = new ReferenceBackend('f64');
    const x = bufferFrom(backend, [1, 2]);

    // Act
    backend.ropeForward(
      x,
      bufferFrom(backend, [1], 'i32'),
      bufferFrom(backend, [1, 0]),
      bufferFrom(backend, [0, 1]),
      1,
      1,
      2,
    );

    // Assess
    expect(Array.from(backend.elements(x))).toEqual([-2, 1]);
  });

  it("pairs element i with i + HD/2 as Hugging Face's rotate_half does", () => {
    // Prepare: N = 3 tokens, H = 3 heads, HD = 6
    const backend = new ReferenceBackend('f64');
    const [count, heads, headDim] = [3, 3, 6];
    const values = randomValues(Random.fromSeed(3), count * heads * headDim);
    const positions = [2, 0, 7];
    const { cos, sin } = tables(8, headDim);
    const x = bufferFrom(backend, values);

    // Act
    backend.ropeForward(
      x,
      bufferFrom(backend, positions, 'i32'),
      bufferFrom(backend, cos),
      bufferFrom(backend, sin),
      count,
      heads,
      headDim,
    );

    // Assess: x * cat(cos, cos) + rotate_half(x) * cat(sin, sin), rotate_half(x) = cat(-x2, x1)
    const half = headDim / 2;
    const expected: number[] = [];
    for (let n = 0; n < count; n++) {
      for (let h = 0; h < heads; h++) {
        const head = values.subarray((n * heads + h) * headDim, (n * heads + h + 1) * headDim);
        const rotated = [...head.subarray(half).map((value) => -value), ...head.subarray(0, half)];
        for (let d = 0; d < headDim; d++) {
          const table = positions[n]! * half + (d % half);
          expected.push(head[d]! * cos[table]! + rotated[d]! * sin[table]!);
        }
      }
    }
    expectClose(backend.elements(x), expected);
  });

  it('is the identity at position 0', () => {
    // Prepare
    const backend = new ReferenceBackend('f64');
    const values = randomValues(Random.fromSeed(4), 7 * 1 * 4);
    const { cos, sin } = tables(3, 4);
    const x = bufferFrom(backend, values);

    // Act
    backend.ropeForward(
      x,
      bufferFrom(backend, new Array(7).fill(0), 'i32'),
      bufferFrom(backend, cos),
      bufferFrom(backend, sin),
      7,
      1,
      4,
    );

    // Assess
    expect(Array.from(backend.elements(x))).toEqual(Array.from(values));
  });

  it('backward undoes forward', () => {
    // Prepare
    const backend = new ReferenceBackend('f64');
    const [count, heads, headDim] = [7, 3, 4];
    const values = randomValues(Random.fromSeed(5), count * heads * headDim);
    const { cos, sin } = tables(40, headDim);
    const positions = bufferFrom(backend, [0, 1, 2, 39, 5, 5, 17], 'i32');
    const cosBuffer = bufferFrom(backend, cos);
    const sinBuffer = bufferFrom(backend, sin);
    const x = bufferFrom(backend, values);

    // Act
    backend.ropeForward(x, positions, cosBuffer, sinBuffer, count, heads, headDim);
    const rotated = Array.from(backend.elements(x));
    backend.ropeBackward(x, positions, cosBuffer, sinBuffer, count, heads, headDim);

    // Assess
    expect(rotated).not.toEqual(Array.from(values));
    expectClose(backend.elements(x), values, 1e-14);
  });
});

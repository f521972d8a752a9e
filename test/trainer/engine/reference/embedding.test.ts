import { describe, expect, it } from 'vitest';
import { ReferenceBackend } from '../../../../trainer/src/engine/reference';
import { bufferFrom } from '../../../helpers/trainer/gradient-check';

describe('reference embedding', () => {
  // table (V = 3, C = 3): row v is (v, v + 0.5, -v)
  const table = [0, 0.5, 0, 1, 1.5, -1, 2, 2.5, -2];

  it('forward picks the rows named by the tokens, repeats included', () => {
    // Prepare
    const backend = new ReferenceBackend('f64');
    const out = backend.allocate('f32', 4 * 3);

    // Act
    backend.embeddingForward(out, bufferFrom(backend, table), bufferFrom(backend, [2, 0, 2, 1], 'i32'), 4, 3);

    // Assess
    expect(Array.from(backend.elements(out))).toEqual([2, 2.5, -2, 0, 0.5, 0, 2, 2.5, -2, 1, 1.5, -1]);
  });

  it('backward adds every occurrence of a token into its row and leaves unused rows alone', () => {
    // Prepare
    const backend = new ReferenceBackend('f64');
    const dtable = bufferFrom(backend, [0, 0, 0, 10, 10, 10, 100, 100, 100, 7, 7, 7]);
    // dout (N = 4, C = 3)
    const dout = bufferFrom(backend, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);

    // Act
    backend.embeddingBackward(dtable, dout, bufferFrom(backend, [2, 0, 2, 2], 'i32'), 4, 3);

    // Assess: row 2 gets rows 0, 2 and 3 of dout; rows 1 and 3, named by no token, keep their values.
    expect(Array.from(backend.elements(dtable))).toEqual([4, 5, 6, 10, 10, 10, 118, 121, 124, 7, 7, 7]);
  });

  it('reads only the first count tokens', () => {
    // Prepare
    const backend = new ReferenceBackend('f64');
    const out = bufferFrom(backend, [9, 9, 9, 9, 9, 9]);

    // Act
    backend.embeddingForward(out, bufferFrom(backend, table), bufferFrom(backend, [1, 2], 'i32'), 1, 3);

    // Assess
    expect(Array.from(backend.elements(out))).toEqual([1, 1.5, -1, 9, 9, 9]);
  });
});

import { describe, expect, it } from 'vitest';
import { ReferenceBackend } from '../../../../trainer/src/engine/reference';
import { expectClose } from '../../../helpers/trainer/assertions';
import { bufferFrom } from '../../../helpers/trainer/gradient-check';

describe('reference bias kernels', () => {
  it('addRowVector adds the vector to every row', () => {
    // Prepare
    const backend = new ReferenceBackend('f64');
    const out = bufferFrom(backend, [1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const vector = bufferFrom(backend, [10, 20, 30]);

    // Act
    backend.addRowVector(out, vector, 3, 3);

    // Assess
    expect(Array.from(backend.elements(out))).toEqual([11, 22, 33, 14, 25, 36, 17, 28, 39]);
  });

  it('addRowVector handles a single row and a single column', () => {
    // Prepare
    const backend = new ReferenceBackend('f64');
    const row = bufferFrom(backend, [1, 2, 3, 4, 5, 6, 7]);
    const column = bufferFrom(backend, [1, 2, 3]);

    // Act
    backend.addRowVector(row, bufferFrom(backend, [7, 6, 5, 4, 3, 2, 1]), 1, 7);
    backend.addRowVector(column, bufferFrom(backend, [-1]), 3, 1);

    // Assess
    expect(Array.from(backend.elements(row))).toEqual([8, 8, 8, 8, 8, 8, 8]);
    expect(Array.from(backend.elements(column))).toEqual([0, 1, 2]);
  });

  it('sumRows adds the column sums into what the vector holds', () => {
    // Prepare
    const backend = new ReferenceBackend('f64');
    const sums = bufferFrom(backend, [100, 200, 300]);
    const x = bufferFrom(
      backend,
      [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21],
    );

    // Act
    backend.sumRows(sums, x, 7, 3);

    // Assess
    expect(Array.from(backend.elements(sums))).toEqual([170, 277, 384]);
  });
});

describe('reference elementwise kernels', () => {
  it('add writes a + b', () => {
    // Prepare
    const backend = new ReferenceBackend('f64');
    const out = bufferFrom(backend, [9, 9, 9]);

    // Act
    backend.add(out, bufferFrom(backend, [1, 2, 3]), bufferFrom(backend, [0.5, -2, 10]));

    // Assess
    expect(Array.from(backend.elements(out))).toEqual([1.5, 0, 13]);
  });

  it('multiply writes a * b, or adds it with accumulate', () => {
    // Prepare
    const backend = new ReferenceBackend('f64');
    const a = bufferFrom(backend, [1, 2, 3]);
    const b = bufferFrom(backend, [4, -5, 0.5]);
    const written = bufferFrom(backend, [9, 9, 9]);
    const accumulated = bufferFrom(backend, [9, 9, 9]);

    // Act
    backend.multiply(written, a, b);
    backend.multiply(accumulated, a, b, true);

    // Assess
    expect(Array.from(backend.elements(written))).toEqual([4, -10, 1.5]);
    expect(Array.from(backend.elements(accumulated))).toEqual([13, -1, 10.5]);
  });

  it('axpy adds alpha x to y, scale multiplies in place, sumOfSquares writes one sum', () => {
    // Prepare
    const backend = new ReferenceBackend('f64');
    const y = bufferFrom(backend, [1, 1, 1]);
    const x = bufferFrom(backend, [2, -4, 8]);
    const squares = bufferFrom(backend, [123]);

    // Act
    backend.axpy(y, x, 0.25);
    backend.scale(x, -0.5);
    backend.sumOfSquares(squares, x);

    // Assess
    expect(Array.from(backend.elements(y))).toEqual([1.5, 0, 3]);
    expect(Array.from(backend.elements(x))).toEqual([-1, 2, -4]);
    expect(backend.elements(squares)[0]).toBe(21);
  });

  it('fill sets every element and copy duplicates a buffer', () => {
    // Prepare
    const backend = new ReferenceBackend('f64');
    const target = bufferFrom(backend, [1, 2, 3]);
    const copy = backend.allocate('f32', 3);

    // Act
    backend.fill(target, 0.5);
    backend.copy(copy, target);
    backend.fill(target, 0);

    // Assess
    expect(Array.from(backend.elements(copy))).toEqual([0.5, 0.5, 0.5]);
    expect(Array.from(backend.elements(target))).toEqual([0, 0, 0]);
  });
});

describe('reference SwiGLU', () => {
  // Expected values from torch.nn.functional.silu(gate) * up in float64.
  it('forward is silu(gate) * up', () => {
    // Prepare
    const backend = new ReferenceBackend('f64');
    const out = backend.allocate('f32', 3);

    // Act
    backend.swigluForward(out, bufferFrom(backend, [0, 1, -2]), bufferFrom(backend, [5, 2, 3]));

    // Assess
    expectClose(backend.elements(out), [0, 1.4621171572600098, -0.7152175321327052]);
  });

  it('backward adds the gradients of gate and up', () => {
    // Prepare
    const backend = new ReferenceBackend('f64');
    const dgate = bufferFrom(backend, [1, 1, 1]);
    const dup = bufferFrom(backend, [-1, -1, -1]);

    // Act
    backend.swigluBackward(
      dgate,
      dup,
      bufferFrom(backend, [1, -0.5, 2]),
      bufferFrom(backend, [0, 1, -2]),
      bufferFrom(backend, [5, 2, 3]),
    );

    // Assess: torch's autograd gave (2.5, -0.92767..., -0.54470...) and (0, -0.36552..., -0.47681...).
    expectClose(backend.elements(dgate), [3.5, 1 - 0.9276705118714869, 1 - 0.5447054927093727]);
    expectClose(backend.elements(dup), [-1, -1 - 0.36552928931500245, -1 - 0.4768116880884702]);
  });
});

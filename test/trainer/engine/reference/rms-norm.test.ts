import { describe, it } from 'vitest';
import { Random } from '../../../../trainer/src/engine/random';
import { ReferenceBackend } from '../../../../trainer/src/engine/reference';
import { expectClose } from '../../../helpers/trainer/assertions';
import { bufferFrom, randomValues } from '../../../helpers/trainer/gradient-check';

describe('reference RMSNorm', () => {
  // x (2, 2) = [[3, 4], [0, -1]], weight (2) = [1, 2], eps 1e-5. Expected values from PyTorch
  // (x * rsqrt(mean(x^2) + eps) * weight, and its autograd) in float64.
  const x = [3, 4, 0, -1];
  const weight = [1, 2];

  it('forward scales each row by its reciprocal RMS and the weight, and keeps rstd', () => {
    // Prepare
    const backend = new ReferenceBackend('f64');
    const out = backend.allocate('f32', 4);
    const rstd = backend.allocate('f32', 2);

    // Act
    backend.rmsNormForward(out, rstd, bufferFrom(backend, x), bufferFrom(backend, weight), 2, 2, 1e-5);

    // Assess
    expectClose(backend.elements(out), [0.8485277980128058, 2.2627407947008153, 0, -2.8283988408992]);
    expectClose(backend.elements(rstd), [0.2828425993376019, 1.4141994204496]);
  });

  it('backward adds dx and dweight', () => {
    // Prepare
    const backend = new ReferenceBackend('f64');
    const xBuffer = bufferFrom(backend, x);
    const weightBuffer = bufferFrom(backend, weight);
    const rstd = backend.allocate('f32', 2);
    backend.rmsNormForward(backend.allocate('f32', 4), rstd, xBuffer, weightBuffer, 2, 2, 1e-5);
    const dx = bufferFrom(backend, [1, 1, 1, 1]);
    const dweight = bufferFrom(backend, [-1, -1]);

    // Act
    backend.rmsNormBackward(
      dx,
      dweight,
      bufferFrom(backend, [1, 0, 0.5, -2]),
      xBuffer,
      weightBuffer,
      rstd,
      2,
      2,
    );

    // Assess
    expectClose(backend.elements(dx), [
      1 + 0.18101934503466866,
      1 - 0.13576433907057767,
      1 + 0.7070997102248,
      1 - 0.00011313369096122017,
    ]);
    expectClose(backend.elements(dweight), [-1 + 0.8485277980128058, -1 + 2.8283988408992]);
  });

  it('backward with a frozen weight (null dweight) adds the same dx', () => {
    // Prepare
    const backend = new ReferenceBackend('f64');
    const xBuffer = bufferFrom(backend, x);
    const weightBuffer = bufferFrom(backend, weight);
    const rstd = backend.allocate('f32', 2);
    backend.rmsNormForward(backend.allocate('f32', 4), rstd, xBuffer, weightBuffer, 2, 2, 1e-5);
    const dx = backend.allocate('f32', 4);

    // Act
    backend.rmsNormBackward(
      dx,
      null,
      bufferFrom(backend, [1, 0, 0.5, -2]),
      xBuffer,
      weightBuffer,
      rstd,
      2,
      2,
    );

    // Assess
    expectClose(
      backend.elements(dx),
      [0.18101934503466866, -0.13576433907057767, 0.7070997102248, -0.00011313369096122017],
    );
  });

  it.each([
    { rows: 1, cols: 1 },
    { rows: 3, cols: 7 },
    { rows: 7, cols: 3 },
  ])('forward matches the definition on $rows x $cols', ({ rows, cols }) => {
    // Prepare
    const backend = new ReferenceBackend('f64');
    const random = Random.fromSeed(rows * 10 + cols);
    const values = randomValues(random, rows * cols);
    const gains = randomValues(random, cols);
    const out = backend.allocate('f32', rows * cols);
    const rstd = backend.allocate('f32', rows);

    // Act
    backend.rmsNormForward(
      out,
      rstd,
      bufferFrom(backend, values),
      bufferFrom(backend, gains),
      rows,
      cols,
      1e-6,
    );

    // Assess
    const expected: number[] = [];
    for (let r = 0; r < rows; r++) {
      const row = values.subarray(r * cols, (r + 1) * cols);
      const rms = Math.sqrt(row.reduce((sum, value) => sum + value ** 2, 0) / cols + 1e-6);
      for (let c = 0; c < cols; c++) expected.push((row[c]! / rms) * gains[c]!);
    }
    expectClose(backend.elements(out), expected, 1e-13);
  });
});

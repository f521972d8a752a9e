import { describe, expect, it } from 'vitest';
import { Random } from '../../../../trainer/src/engine/random';
import { ReferenceBackend } from '../../../../trainer/src/engine/reference';
import { expectClose } from '../../../helpers/trainer/assertions';
import { bufferFrom, randomValues } from '../../../helpers/trainer/gradient-check';

/** softmax of each row of x (rows, vocab), straight from exp / sum exp. */
function softmax(x: ArrayLike<number>, rows: number, vocab: number): number[] {
  const out: number[] = [];
  for (let r = 0; r < rows; r++) {
    const exps = Array.from({ length: vocab }, (_, i) => Math.exp(x[r * vocab + i]!));
    const total = exps.reduce((a, b) => a + b, 0);
    out.push(...exps.map((value) => value / total));
  }
  return out;
}

describe('reference cross-entropy', () => {
  it('forward matches -log_softmax at the target (values from PyTorch)', () => {
    // Prepare: logits (2, 3); -torch.log_softmax in float64 gave these for every entry
    const backend = new ReferenceBackend('f64');
    const losses = backend.allocate('f32', 2);

    // Act
    backend.crossEntropyForward(
      losses,
      bufferFrom(backend, [1, 2, 3, 0.5, -1, 0]),
      bufferFrom(backend, [0, 2], 'i32'),
      2,
      3,
    );

    // Assess
    expectClose(backend.elements(losses), [2.4076059644443806, 1.1041306053367284]);
  });

  it.each([
    { rows: 1, vocab: 1 },
    { rows: 3, vocab: 7 },
    { rows: 7, vocab: 3 },
  ])('forward matches -log(softmax) computed directly on $rows x $vocab', ({ rows, vocab }) => {
    // Prepare
    const backend = new ReferenceBackend('f64');
    const random = Random.fromSeed(rows * 10 + vocab);
    const logits = randomValues(random, rows * vocab, 3);
    const targets = Array.from({ length: rows }, () => random.below(vocab));
    const losses = backend.allocate('f32', rows);

    // Act
    backend.crossEntropyForward(
      losses,
      bufferFrom(backend, logits),
      bufferFrom(backend, targets, 'i32'),
      rows,
      vocab,
    );

    // Assess
    const probabilities = softmax(logits, rows, vocab);
    expectClose(
      backend.elements(losses),
      targets.map((target, r) => -Math.log(probabilities[r * vocab + target]!)),
      1e-13,
    );
  });

  it('forward stays finite for logits whose exponentials overflow', () => {
    // Prepare
    const backend = new ReferenceBackend('f64');
    const losses = backend.allocate('f32', 2);

    // Act
    backend.crossEntropyForward(
      losses,
      bufferFrom(backend, [1000, 1000, -1000, 1000]),
      bufferFrom(backend, [1, 0], 'i32'),
      2,
      2,
    );

    // Assess: ln 2 is recovered from 1000 + ln 2, so to within 1000's spacing (1.1e-13)
    expectClose(backend.elements(losses), [Math.LN2, 2000], 2e-13);
  });

  it('backward writes (softmax - onehot) * weight * scale, over what dlogits held', () => {
    // Prepare
    const backend = new ReferenceBackend('f64');
    const random = Random.fromSeed(9);
    const [rows, vocab] = [3, 7];
    const logits = randomValues(random, rows * vocab, 2);
    const targets = [6, 0, 6];
    const weights = [1, 0, 0.5];
    const dlogits = bufferFrom(backend, new Array(rows * vocab).fill(123));

    // Act
    backend.crossEntropyBackward(
      dlogits,
      bufferFrom(backend, logits),
      bufferFrom(backend, targets, 'i32'),
      bufferFrom(backend, weights),
      0.25,
      rows,
      vocab,
    );

    // Assess
    const probabilities = softmax(logits, rows, vocab);
    const expected = probabilities.map((p, i) => {
      const r = Math.floor(i / vocab);
      return (p - (i % vocab === targets[r] ? 1 : 0)) * weights[r]! * 0.25;
    });
    expectClose(backend.elements(dlogits), expected);
    expect(Array.from(backend.elements(dlogits).subarray(vocab, 2 * vocab), Math.abs)).toEqual(
      new Array(vocab).fill(0),
    );
  });

  it('backward in place (dlogits = logits) gives what it gives into a separate buffer', () => {
    // Prepare
    const backend = new ReferenceBackend('f64');
    const random = Random.fromSeed(10);
    const [rows, vocab] = [3, 7];
    const logits = randomValues(random, rows * vocab, 2);
    const targets = bufferFrom(backend, [1, 3, 5], 'i32');
    const weights = bufferFrom(backend, [1, 1, 2]);
    const separate = backend.allocate('f32', rows * vocab);
    const inPlace = bufferFrom(backend, logits);

    // Act
    backend.crossEntropyBackward(separate, bufferFrom(backend, logits), targets, weights, 0.5, rows, vocab);
    backend.crossEntropyBackward(inPlace, inPlace, targets, weights, 0.5, rows, vocab);

    // Assess
    expect(Array.from(backend.elements(inPlace))).toEqual(Array.from(backend.elements(separate)));
  });
});

describe('reference argmax', () => {
  it('picks the largest entry of each row, the first of tied ones', () => {
    // Prepare: x (4, 3)
    const backend = new ReferenceBackend('f64');
    const out = bufferFrom(backend, [-1, -1, -1, -1], 'i32');
    const x = bufferFrom(backend, [1, 3, 3, 5, 5, 5, -2, -1, -1, 0, -0, 7]);

    // Act
    backend.argmax(out, x, 4, 3);

    // Assess
    expect(Array.from(backend.elements(out))).toEqual([1, 0, 1, 2]);
  });

  it('picks index 0 of a single column and among negatives', () => {
    // Prepare
    const backend = new ReferenceBackend('f64');
    const single = backend.allocate('i32', 3);
    const negatives = backend.allocate('i32', 1);

    // Act
    backend.argmax(single, bufferFrom(backend, [4, -4, 0]), 3, 1);
    backend.argmax(negatives, bufferFrom(backend, [-3, -7, -3]), 1, 3);

    // Assess
    expect(Array.from(backend.elements(single))).toEqual([0, 0, 0]);
    expect(Array.from(backend.elements(negatives))).toEqual([0]);
  });
});

import { describe, expect, it } from 'vitest';
import type { AdamWStep } from '../../../../trainer/src/engine/backend';
import { ReferenceBackend } from '../../../../trainer/src/engine/reference';
import { bufferFrom } from '../../../helpers/trainer/gradient-check';

/*
 * Expected values: torch.optim.AdamW (torch 1.13, float64 tensors), run once with
 *   p = [0.5, -1.25, 3.0, 0.0, -0.75]; AdamW([p], lr=0.01, betas=(0.8, 0.95), eps=1e-6, weight_decay=0.1)
 *   step 1: p.grad = [0.1, -0.3, 0.0, 2.0, 1e-4]; step 2: p.grad = [-0.2, 0.4, 0.0, 2.0, -3e-4]
 * and its state (exp_avg, exp_avg_sq) printed after step 2. Entry 2 has no gradient (decay alone
 * moves it), entry 4's gradient is small enough that eps matters.
 */
const INITIAL = [0.5, -1.25, 3.0, 0.0, -0.75];
const GRADIENTS = [
  [0.1, -0.3, 0.0, 2.0, 1e-4],
  [-0.2, 0.4, 0.0, 2.0, -3e-4],
];
const HYPERPARAMETERS = { learningRate: 0.01, beta1: 0.8, beta2: 0.95, epsilon: 1e-6, weightDecay: 0.1 };
const AFTER_STEP_1 = [0.489500099999, -1.2387500333332222, 2.997, -0.009999995000002499, -0.7591509900990099];
const AFTER_STEP_2 = [
  0.49319487973294523, -1.2400164568113266, 2.9940029999999997, -0.019989990005004996, -0.7530049556611871,
];
const EXP_AVG = [-0.023999999999999997, 0.032, 0.0, 0.7199999999999999, -4.3999999999999985e-5];
const EXP_AVG_SQ = [
  0.0024750000000000024, 0.012275000000000012, 0.0, 0.39000000000000035, 4.975000000000004e-9,
];

function expectRelativelyClose(
  actual: ArrayLike<number>,
  expected: readonly number[],
  tolerance: number,
): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const error = Math.abs(actual[i]! - expected[i]!) / Math.max(Math.abs(expected[i]!), 1e-30);
    expect(error, `entry ${i}: ${actual[i]} vs ${expected[i]}`).toBeLessThanOrEqual(tolerance);
  }
}

describe('reference AdamW', () => {
  it('matches two steps of torch.optim.AdamW in float64, moments included', () => {
    // Prepare
    const backend = new ReferenceBackend('f64');
    const param = bufferFrom(backend, INITIAL);
    const m = backend.allocate('f32', 5);
    const v = backend.allocate('f32', 5);
    const grad = backend.allocate('f32', 5);

    // Act
    backend.write(grad, GRADIENTS[0]!);
    backend.adamw(param, grad, m, v, { ...HYPERPARAMETERS, step: 1 });
    const afterStep1 = Array.from(backend.elements(param));
    backend.write(grad, GRADIENTS[1]!);
    backend.adamw(param, grad, m, v, { ...HYPERPARAMETERS, step: 2 });

    // Assess
    expectRelativelyClose(afterStep1, AFTER_STEP_1, 1e-14);
    expectRelativelyClose(backend.elements(param), AFTER_STEP_2, 1e-14);
    expectRelativelyClose(backend.elements(m), EXP_AVG, 1e-14);
    expectRelativelyClose(backend.elements(v), EXP_AVG_SQ, 1e-14);
  });

  it('matches the same two steps in float32 to float32 precision', () => {
    // Prepare
    const backend = new ReferenceBackend('f32');
    const param = bufferFrom(backend, INITIAL);
    const m = backend.allocate('f32', 5);
    const v = backend.allocate('f32', 5);
    const grad = backend.allocate('f32', 5);

    // Act
    for (const [index, gradient] of GRADIENTS.entries()) {
      backend.write(grad, gradient);
      backend.adamw(param, grad, m, v, { ...HYPERPARAMETERS, step: index + 1 });
    }

    // Assess
    expectRelativelyClose(backend.elements(param), AFTER_STEP_2, 1e-6);
  });

  it('leaves a parameter with no gradient and no decay where it is', () => {
    // Prepare
    const backend = new ReferenceBackend('f64');
    const param = bufferFrom(backend, [0.25, -3]);
    const step: AdamWStep = { ...HYPERPARAMETERS, weightDecay: 0, step: 1 };

    // Act
    backend.adamw(
      param,
      backend.allocate('f32', 2),
      backend.allocate('f32', 2),
      backend.allocate('f32', 2),
      step,
    );

    // Assess
    expect(Array.from(backend.elements(param))).toEqual([0.25, -3]);
  });

  it('moves the first step by about the learning rate against the gradient sign, after decay', () => {
    // Prepare: with bias correction, step 1's update is lr * g / (|g| + eps) whatever the betas
    const backend = new ReferenceBackend('f64');
    const param = bufferFrom(backend, [1, 1]);
    const grad = bufferFrom(backend, [5, -0.001]);
    const step: AdamWStep = {
      learningRate: 0.1,
      beta1: 0.9,
      beta2: 0.999,
      epsilon: 0,
      weightDecay: 0.5,
      step: 1,
    };

    // Act
    backend.adamw(param, grad, backend.allocate('f32', 2), backend.allocate('f32', 2), step);

    // Assess: 1 * (1 - 0.1 * 0.5) -+ 0.1
    expectRelativelyClose(backend.elements(param), [0.85, 1.05], 1e-14);
  });
});

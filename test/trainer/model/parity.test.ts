import { describe, expect, it } from 'vitest';
import { BACKEND_NAMES } from '../../../trainer/src/engine/backends';
import { measureParity, PARITY_CASES } from '../../helpers/trainer/parity';

// Every back end this build has must pass, so a faster one is held to the same fixtures.
describe.each(
  BACKEND_NAMES.flatMap((backendName) => PARITY_CASES.map((name) => [backendName, name] as const)),
)('parity with PyTorch on %s: %s', (backendName, name) => {
  it('matches logits and loss within 1e-4 and every gradient within 1e-3 (max error over max magnitude, per tensor)', async () => {
    // Act
    const errors = await measureParity(backendName, name);

    // Assess
    expect(errors.logits).toBeLessThan(1e-4);
    expect(errors.loss).toBeLessThan(1e-4);
    expect(Object.keys(errors.gradients).sort()).toEqual([...errors.trainable].sort());
    expect(Object.keys(errors.gradients).length).toBeGreaterThan(3);
    const [worstName, worst] = Object.entries(errors.gradients).sort((a, b) => b[1] - a[1])[0]!;
    expect(worst, `gradient of ${worstName}`).toBeLessThan(1e-3);
  });
});

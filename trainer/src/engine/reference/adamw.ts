import type { AdamWStep } from '../backend';
import type { FloatArray } from './arrays';

/** torch.optim.AdamW's update: decay first, then the bias-corrected Adam step. */
export function adamw(
  param: FloatArray,
  grad: FloatArray,
  m: FloatArray,
  v: FloatArray,
  hp: AdamWStep,
): void {
  const correction1 = 1 - hp.beta1 ** hp.step;
  const correction2 = 1 - hp.beta2 ** hp.step;
  const stepSize = hp.learningRate / correction1;
  const decay = 1 - hp.learningRate * hp.weightDecay;
  for (let i = 0; i < param.length; i++) {
    const g = grad[i]!;
    m[i] = hp.beta1 * m[i]! + (1 - hp.beta1) * g;
    v[i] = hp.beta2 * v[i]! + (1 - hp.beta2) * g * g;
    const denominator = Math.sqrt(v[i]!) / Math.sqrt(correction2) + hp.epsilon;
    param[i] = param[i]! * decay - (stepSize * m[i]!) / denominator;
  }
}

import type { AdamWStep, Backend, DeviceBuffer } from '../engine/backend';
import type { ParameterStore } from '../model/parameters';

export interface AdamWSettings {
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  readonly weightDecay: number;
}

/** torch.optim.AdamW's defaults, with transformers' Trainer's weight decay of 0. */
export const DEFAULT_ADAMW: AdamWSettings = { beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0 };

/**
 * AdamW over the trainable buffer: its moments m and v share the buffer's layout, and weight decay
 * applies to the decayed range only (matrices and embeddings, not biases or norm weights).
 */
export class AdamW {
  readonly m: DeviceBuffer;
  readonly v: DeviceBuffer;
  readonly settings: AdamWSettings;
  readonly #backend: Backend;
  readonly #parameters: ParameterStore;

  constructor(backend: Backend, parameters: ParameterStore, settings: AdamWSettings = DEFAULT_ADAMW) {
    this.#backend = backend;
    this.#parameters = parameters;
    this.settings = settings;
    this.m = backend.allocate('f32', parameters.trainable.length);
    this.v = backend.allocate('f32', parameters.trainable.length);
  }

  /** Applies optimizer step `step` (from 1) with the given learning rate to the gradients as they are. */
  update(step: number, learningRate: number): void {
    const backend = this.#backend;
    const { trainable, gradients, ranges } = this.#parameters;
    for (const range of ranges) {
      const part = (buffer: DeviceBuffer) => backend.view(buffer, range.offset, range.length);
      const hyper: AdamWStep = {
        learningRate,
        beta1: this.settings.beta1,
        beta2: this.settings.beta2,
        epsilon: this.settings.epsilon,
        weightDecay: range.decay ? this.settings.weightDecay : 0,
        step,
      };
      backend.adamw(part(trainable), part(gradients), part(this.m), part(this.v), hyper);
    }
  }
}

/**
 * Scales the gradients so their global L2 norm is at most maxNorm, as torch.nn.utils.clip_grad_norm_
 * does, on the device; the promise gives the norm before clipping and may be awaited after later
 * kernels are issued.
 */
export function clipByGlobalNorm(
  backend: Backend,
  gradients: DeviceBuffer,
  maxNorm: number,
  scratch: DeviceBuffer,
): Promise<number> {
  backend.sumOfSquares(scratch, gradients);
  if (Number.isFinite(maxNorm)) backend.clipToNorm(gradients, scratch, maxNorm);
  return backend.read(scratch).then((sum) => Math.sqrt(sum[0]!));
}

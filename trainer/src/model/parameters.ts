import type { Backend, DeviceBuffer } from '../engine/backend';
import { EngineError } from '../engine/errors';

export interface ParameterSpec {
  /** Hugging Face's name for base weights; PEFT's, less its `base_model.model.` prefix, for LoRA. */
  readonly name: string;
  readonly shape: readonly number[];
  readonly trainable: boolean;
  /** Weight decay applies to matrices and embeddings, not to biases or norm weights (as transformers' Trainer). */
  readonly decay: boolean;
}

export interface Parameter extends ParameterSpec {
  readonly size: number;
  /** Offset in the buffer that holds it: `trainable` or `frozen`. */
  readonly offset: number;
  readonly value: DeviceBuffer;
  /** Null when frozen. */
  readonly gradient: DeviceBuffer | null;
}

/** A contiguous part of the trainable buffer: the optimizer updates each with its own weight decay. */
export interface ParameterRange {
  readonly offset: number;
  readonly length: number;
  readonly decay: boolean;
}

/**
 * Every parameter lives in one of two large buffers, as named views: `frozen` (never updated, no
 * gradient) and `trainable`, laid out decayed parameters first, then the rest, so the optimizer
 * runs on two ranges. `gradients` has the trainable buffer's layout.
 */
export class ParameterStore {
  readonly frozen: DeviceBuffer;
  readonly trainable: DeviceBuffer;
  readonly gradients: DeviceBuffer;
  readonly ranges: readonly ParameterRange[];
  readonly #byName: Map<string, Parameter>;

  constructor(backend: Backend, specs: readonly ParameterSpec[]) {
    const ordered = [
      ...specs.filter((spec) => !spec.trainable),
      ...specs.filter((spec) => spec.trainable && spec.decay),
      ...specs.filter((spec) => spec.trainable && !spec.decay),
    ];
    const sizes = new Map<string, number>();
    for (const spec of ordered) {
      if (sizes.has(spec.name)) throw new EngineError(`two parameters are named "${spec.name}"`);
      sizes.set(
        spec.name,
        spec.shape.reduce((a, b) => a * b, 1),
      );
    }
    const frozenSize = ordered.filter((s) => !s.trainable).reduce((sum, s) => sum + sizes.get(s.name)!, 0);
    const decayedSize = ordered
      .filter((s) => s.trainable && s.decay)
      .reduce((sum, s) => sum + sizes.get(s.name)!, 0);
    const trainableSize = ordered.filter((s) => s.trainable).reduce((sum, s) => sum + sizes.get(s.name)!, 0);
    this.frozen = backend.allocate('f32', frozenSize);
    this.trainable = backend.allocate('f32', trainableSize);
    this.gradients = backend.allocate('f32', trainableSize);
    this.ranges = [
      { offset: 0, length: decayedSize, decay: true },
      { offset: decayedSize, length: trainableSize - decayedSize, decay: false },
    ].filter((range) => range.length > 0);
    this.#byName = new Map();
    let frozenOffset = 0;
    let trainableOffset = 0;
    for (const spec of ordered) {
      const size = sizes.get(spec.name)!;
      const offset = spec.trainable ? trainableOffset : frozenOffset;
      const parameter: Parameter = {
        ...spec,
        size,
        offset,
        value: backend.view(spec.trainable ? this.trainable : this.frozen, offset, size),
        gradient: spec.trainable ? backend.view(this.gradients, offset, size) : null,
      };
      this.#byName.set(spec.name, parameter);
      if (spec.trainable) trainableOffset += size;
      else frozenOffset += size;
    }
  }

  get(name: string): Parameter {
    const parameter = this.#byName.get(name);
    if (!parameter) throw new EngineError(`no parameter named "${name}"`);
    return parameter;
  }

  find(name: string): Parameter | undefined {
    return this.#byName.get(name);
  }

  all(): Parameter[] {
    return [...this.#byName.values()];
  }

  trainableParameters(): Parameter[] {
    return this.all().filter((parameter) => parameter.trainable);
  }

  get trainableCount(): number {
    return this.trainable.length;
  }
}

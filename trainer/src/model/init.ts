import type { Backend } from '../engine/backend';
import { EngineError } from '../engine/errors';
import type { Random } from '../engine/random';
import type { ParameterStore } from './parameters';
import type { HostTensor } from './safetensors';

export interface ModelInit {
  /** The base model's tensors by Hugging Face name (see loadHfWeights). */
  readonly weights: ReadonlyMap<string, HostTensor>;
  /** LoRA tensors by name less PEFT's `base_model.model.` prefix; absent: A random, B zero, as PEFT initialises them. */
  readonly adapter?: ReadonlyMap<string, HostTensor>;
  /** Draws LoRA's initial A. */
  readonly random: Random;
}

/** Fills every parameter from the base weights and the adapter, or LoRA's initial values. */
export function initialiseParameters(backend: Backend, parameters: ParameterStore, init: ModelInit): void {
  for (const parameter of parameters.all()) {
    const isLora = /\.lora_[AB]\.weight$/.test(parameter.name);
    const tensor = isLora ? init.adapter?.get(parameter.name) : init.weights.get(parameter.name);
    if (tensor) {
      const expected = parameter.shape.join(', ');
      if (tensor.shape.join(', ') !== expected) {
        throw new EngineError(
          `tensor "${parameter.name}" has shape [${tensor.shape.join(', ')}], expected [${expected}]`,
        );
      }
      backend.write(parameter.value, tensor.data);
    } else if (isLora && init.adapter) {
      throw new EngineError(`the adapter has no tensor "${parameter.name}"`);
    } else if (isLora) {
      // PEFT: A ~ kaiming_uniform(a = sqrt(5)) = U(-1/sqrt(in), 1/sqrt(in)); B stays 0, so training starts at the base model.
      if (parameter.name.endsWith('lora_A.weight')) {
        const bound = 1 / Math.sqrt(parameter.shape[1]!);
        backend.write(
          parameter.value,
          Float32Array.from({ length: parameter.size }, () => init.random.uniform(-bound, bound)),
        );
      }
    } else {
      throw new EngineError(`the model has no tensor "${parameter.name}"`);
    }
  }
}

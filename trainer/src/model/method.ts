import { TrainingConfigError } from '../engine/errors';
import type { ModelConfig } from './config';

/** The projections LoRA can adapt, by their Hugging Face module names. */
export const LINEAR_MODULES = [
  'q_proj',
  'k_proj',
  'v_proj',
  'o_proj',
  'gate_proj',
  'up_proj',
  'down_proj',
] as const;
export type LinearModule = (typeof LINEAR_MODULES)[number];

export interface LoraMethod {
  readonly kind: 'lora';
  readonly rank: number;
  readonly alpha: number;
  readonly dropout: number;
  /** Module names, or every linear projection of the decoder layers as PEFT's `all-linear` (never lm_head). */
  readonly targetModules: readonly string[] | 'all-linear';
}

export interface FullMethod {
  readonly kind: 'full';
}

/** Only parameters in the named layers and/or of the named modules train. */
export interface PartialMethod {
  readonly kind: 'partial';
  readonly layers?: readonly number[];
  readonly modules?: readonly string[];
}

export type TrainingMethod = LoraMethod | FullMethod | PartialMethod;

export function loraTargets(method: LoraMethod): LinearModule[] {
  if (method.targetModules === 'all-linear') return [...LINEAR_MODULES];
  const targets = [...new Set(method.targetModules)];
  for (const target of targets) {
    if (!(LINEAR_MODULES as readonly string[]).includes(target)) {
      throw new TrainingConfigError(
        'lora.target_modules',
        `LoRA target module "${target}" is not one of ${LINEAR_MODULES.join(', ')} (or "all-linear")`,
      );
    }
  }
  if (targets.length === 0)
    throw new TrainingConfigError('lora.target_modules', 'LoRA needs at least one target module');
  return targets as LinearModule[];
}

export function checkMethod(method: TrainingMethod, config: ModelConfig): void {
  if (method.kind === 'lora') {
    loraTargets(method);
    if (!Number.isInteger(method.rank) || method.rank < 1) {
      throw new TrainingConfigError('lora.rank', `LoRA rank must be a positive integer, got ${method.rank}`);
    }
    if (!(method.alpha > 0))
      throw new TrainingConfigError('lora.alpha', `LoRA alpha must be positive, got ${method.alpha}`);
    if (!(method.dropout >= 0 && method.dropout < 1)) {
      throw new TrainingConfigError('lora.dropout', `LoRA dropout must be in [0, 1), got ${method.dropout}`);
    }
  }
  if (method.kind === 'partial') {
    if (!method.layers?.length && !method.modules?.length) {
      throw new TrainingConfigError('partial', 'partial training names the layers or the modules to train');
    }
    if (method.layers?.length === 0 || method.modules?.length === 0) {
      throw new TrainingConfigError('partial', 'partial training lists are left out, not given empty');
    }
    for (const layer of method.layers ?? []) {
      if (!Number.isInteger(layer) || layer < 0 || layer >= config.numLayers) {
        throw new TrainingConfigError(
          'partial.layers',
          `layer ${layer} does not exist: the model has layers 0 to ${config.numLayers - 1}`,
        );
      }
    }
  }
}

/** The module names a parameter belongs to: model.layers.3.mlp.up_proj.weight -> mlp, up_proj. */
function modulesOf(name: string): string[] {
  return name
    .split('.')
    .filter((part) => !/^\d+$/.test(part) && !['model', 'layers', 'weight', 'bias'].includes(part));
}

function layerOf(name: string): number | null {
  const match = /^model\.layers\.(\d+)\./.exec(name);
  return match ? Number(match[1]) : null;
}

/** Whether a base parameter trains under the method (LoRA trains only its own A and B). */
export function trainsBaseParameter(method: TrainingMethod, name: string): boolean {
  if (method.kind === 'full') return true;
  if (method.kind === 'lora') return false;
  const layer = layerOf(name);
  if (method.layers && (layer === null || !method.layers.includes(layer))) return false;
  if (method.modules && !modulesOf(name).some((module) => method.modules!.includes(module))) return false;
  return true;
}

/** Every named partial module must select something, so a typo is an error, not a no-op. */
export function checkPartialSelection(method: PartialMethod, names: readonly string[]): void {
  for (const module of method.modules ?? []) {
    if (!names.some((name) => modulesOf(name).includes(module))) {
      throw new TrainingConfigError(
        'partial.modules',
        `module "${module}" matches no parameter of this model`,
      );
    }
  }
  if (!names.some((name) => trainsBaseParameter(method, name))) {
    throw new TrainingConfigError('partial', 'the layers and modules named select no parameter together');
  }
}

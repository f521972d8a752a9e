export { padSequences, type TokenBatch } from './batch';
export {
  type Architecture,
  type ModelConfig,
  parseModelConfig,
  type RopeScaling,
  readModelConfig,
} from './config';
export { MalformedModelFileError, ModelFileError, UnsupportedModelError } from './errors';
export { exportMergedModel, exportModel } from './export';
export { expectedTensorShapes, loadHfWeights, writeHfModel } from './hf-weights';
export { type GenerateOptions, LlamaModel, type LossTotals, type ModelInit } from './llama';
export {
  type FullMethod,
  LINEAR_MODULES,
  type LoraMethod,
  type PartialMethod,
  type TrainingMethod,
} from './method';
export { type LoraAdapter, mergeLora, readLoraAdapter, saveLoraAdapter } from './peft';
export { type HostTensor, readSafetensors, writeSafetensors } from './safetensors';

export type {
  AdamWStep,
  AttentionShape,
  AttentionWindow,
  Backend,
  DeviceBuffer,
  DType,
  MatmulOptions,
  MatmulShape,
} from './backend';
export { BACKEND_NAMES, createBackend, DEFAULT_BACKEND } from './backends';
export { BackendUnavailableError, BufferError, EngineError, TrainingConfigError } from './errors';
export { Random } from './random';
export { ReferenceBackend, type ReferencePrecision } from './reference';
export { checkSchedule, type DecayShape, type LearningRateSchedule, learningRateAt } from './schedule';

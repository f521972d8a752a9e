export {
  benchKernels,
  type GemmCase,
  type GemmMeasurement,
  type KernelBenchResult,
  presetGemmCases,
  timeGemm,
} from './kernels';
export { type BenchPreset, PRESETS, TINY_LLAMA } from './presets';
export { benchTrain, type TrainBenchOptions, type TrainBenchResult } from './train';

export { resumeRunCheckpoint, saveRunCheckpoint } from './checkpoint';
export { type Dataset, type DatasetContext, type DatasetFiles, loadDataset } from './dataset';
export { TrainingDataError, TrainingStoppedError } from './errors';
export { type Evaluation, evaluate } from './evaluate';
export type { TokenizedExample } from './examples';
export {
  type CheckpointPolicy,
  type FineTuneHooks,
  type FineTuneOptions,
  type FineTuneSummary,
  fineTune,
  type GenerationPolicy,
  type SavedCheckpoint,
  type StepProgress,
  type TrainingPlan,
} from './fine-tune';
export { AdamW, type AdamWSettings, clipByGlobalNorm, DEFAULT_ADAMW } from './optimizer';
export { packExamples } from './packing';
export { RESULT_COLUMNS, resultCsv } from './result-csv';
export {
  DEFAULT_TRAINING,
  type StepReport,
  type TrainingPosition,
  TrainingRun,
  type TrainingSettings,
} from './run';
export { loadTrainingState, saveTrainingState, type TrainingProgress } from './state';

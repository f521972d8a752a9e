export { resumeRunCheckpoint, saveRunCheckpoint } from './checkpoint';
export { type Evaluation, evaluate } from './evaluate';
export type { TokenizedExample } from './examples';
export {
  type FineTuneHooks,
  type FineTuneOptions,
  type FineTuneSummary,
  fineTune,
  type StepProgress,
} from './fine-tune';
export { AdamW, type AdamWSettings, clipByGlobalNorm, DEFAULT_ADAMW } from './optimizer';
export {
  DEFAULT_TRAINING,
  type StepReport,
  type TrainingPosition,
  TrainingRun,
  type TrainingSettings,
} from './run';
export { loadTrainingState, saveTrainingState, type TrainingProgress } from './state';

export { readTrainerEnv, type TrainerEnv, TrainerInputError } from './runtime/env';
export { checkInputObjects, loadSpec, ObjectsByUri } from './runtime/inputs';
export {
  type FineTuneHooks,
  type FineTuneOptions,
  type FineTuneSummary,
  fineTune,
  type StepProgress,
} from './train';

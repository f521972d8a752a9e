export { readTrainerEnv, type TrainerEnv, TrainerInputError } from './runtime/env';
export { checkInputObjects, loadSpec, ObjectsByUri } from './runtime/inputs';

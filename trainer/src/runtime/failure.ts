import { DataError, ExampleError } from '../data';
import { TrainingConfigError } from '../engine/errors';
import { ModelFileError } from '../model/errors';
import { TokenizerError } from '../tokenizer';
import { TrainingDataError } from '../train';
import { type JobFailure, StorageUnavailableError, TrainerInputError } from './errors';

/** Where the job's local copies are, so an error about a file can be told apart by its path. */
export interface LocalInputPaths {
  readonly trainFile?: string;
  readonly validationFile?: string;
}

export interface ClassifiedFailure {
  readonly failure: JobFailure;
  /** 2: the job's inputs are wrong and a retry cannot help; 1: anything else. */
  readonly exitCode: 1 | 2;
}

/**
 * The job error and exit code an error ends the trainer with. Inputs that cannot work (the spec, a
 * dataset line, the base model's files, settings that contradict the data) exit 2, which is never
 * retried; storage that stayed down and anything unforeseen exit 1.
 */
export function classifyFailure(error: unknown, paths: LocalInputPaths = {}): ClassifiedFailure {
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof TrainerInputError) {
    return { exitCode: 2, failure: { code: error.code, message, param: error.param } };
  }
  if (error instanceof TrainingDataError || error instanceof ExampleError || error instanceof DataError) {
    const file = fileOf(error);
    const validation = file !== undefined && file === paths.validationFile;
    return {
      exitCode: 2,
      failure: {
        code: validation ? 'invalid_validation_file' : 'invalid_training_file',
        message: `The ${validation ? 'validation' : 'training'} file cannot be used: ${message}`,
        param: validation ? 'validation_file' : 'training_file',
      },
    };
  }
  if (error instanceof ModelFileError || error instanceof TokenizerError) {
    return {
      exitCode: 2,
      failure: {
        code: 'invalid_base_model',
        message: `The base model cannot be used: ${message}`,
        param: 'model',
      },
    };
  }
  if (error instanceof TrainingConfigError) {
    return {
      exitCode: 2,
      failure: {
        code: 'invalid_hyperparameters',
        message: `The job's settings cannot work: ${message}`,
        param: 'hyperparameters',
      },
    };
  }
  if (error instanceof StorageUnavailableError) {
    return { exitCode: 1, failure: { code: 'storage_unavailable', message, param: null } };
  }
  return {
    exitCode: 1,
    failure: { code: 'trainer_error', message: `The trainer failed: ${message}`, param: null },
  };
}

function fileOf(error: Error): string | undefined {
  if (error instanceof TrainingDataError || error instanceof ExampleError) return error.file;
  return undefined;
}

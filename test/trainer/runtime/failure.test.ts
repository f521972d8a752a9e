import { describe, expect, it } from 'vitest';
import { DataError, ExampleError } from '../../../trainer/src/data';
import { TrainingConfigError } from '../../../trainer/src/engine/errors';
import { MalformedModelFileError, ModelFileError } from '../../../trainer/src/model/errors';
import { StorageUnavailableError, TrainerInputError } from '../../../trainer/src/runtime/errors';
import { classifyFailure, type LocalInputPaths } from '../../../trainer/src/runtime/failure';
import { TokenizerError, TokenizerFileError } from '../../../trainer/src/tokenizer';
import { TrainingDataError } from '../../../trainer/src/train';

const PATHS: LocalInputPaths = {
  trainFile: '/job/inputs/train.jsonl',
  validationFile: '/job/inputs/validation.jsonl',
};

describe('classifyFailure', () => {
  it("keeps a TrainerInputError's own code, param and message, and exits 2", () => {
    // Prepare
    const error = new TrainerInputError('s3://bucket/teams/t/files/file-1 does not exist', {
      code: 'invalid_training_file',
      param: 'training_file',
    });

    // Act
    const classified = classifyFailure(error, PATHS);

    // Assess
    expect(classified).toEqual({
      exitCode: 2,
      failure: {
        code: 'invalid_training_file',
        message: 's3://bucket/teams/t/files/file-1 does not exist',
        param: 'training_file',
      },
    });
  });

  it('gives a TrainerInputError without a code invalid_job_spec and no param', () => {
    // Prepare
    const error = new TrainerInputError(
      'WHETSTONE_JOB_ID is not set; the launcher sets it for every trainer',
    );

    // Act
    const classified = classifyFailure(error);

    // Assess
    expect(classified).toEqual({
      exitCode: 2,
      failure: {
        code: 'invalid_job_spec',
        message: 'WHETSTONE_JOB_ID is not set; the launcher sets it for every trainer',
        param: null,
      },
    });
  });

  it('blames the training file for a TrainingDataError about the training copy', () => {
    // Prepare
    const error = new TrainingDataError(PATHS.trainFile as string, 'train.jsonl has no examples');

    // Act
    const classified = classifyFailure(error, PATHS);

    // Assess
    expect(classified).toEqual({
      exitCode: 2,
      failure: {
        code: 'invalid_training_file',
        message: 'The training file cannot be used: train.jsonl has no examples',
        param: 'training_file',
      },
    });
  });

  it('blames the validation file for a TrainingDataError about the validation copy', () => {
    // Prepare
    const error = new TrainingDataError(PATHS.validationFile as string, 'validation.jsonl has no examples');

    // Act
    const classified = classifyFailure(error, PATHS);

    // Assess
    expect(classified).toEqual({
      exitCode: 2,
      failure: {
        code: 'invalid_validation_file',
        message: 'The validation file cannot be used: validation.jsonl has no examples',
        param: 'validation_file',
      },
    });
  });

  it('blames the file an ExampleError came from, its message naming the line', () => {
    // Prepare
    const options = { field: 'messages[1].weight', line: 3 };
    const inTraining = new ExampleError('"messages[1].weight" must be 0 or 1, got 2', {
      ...options,
      file: PATHS.trainFile,
    });
    const inValidation = new ExampleError('"messages[1].weight" must be 0 or 1, got 2', {
      ...options,
      file: PATHS.validationFile,
    });

    // Act
    const training = classifyFailure(inTraining, PATHS);
    const validation = classifyFailure(inValidation, PATHS);

    // Assess
    expect(training).toEqual({
      exitCode: 2,
      failure: {
        code: 'invalid_training_file',
        message:
          'The training file cannot be used: train.jsonl:3: "messages[1].weight" must be 0 or 1, got 2',
        param: 'training_file',
      },
    });
    expect(validation).toEqual({
      exitCode: 2,
      failure: {
        code: 'invalid_validation_file',
        message:
          'The validation file cannot be used: validation.jsonl:3: "messages[1].weight" must be 0 or 1, got 2',
        param: 'validation_file',
      },
    });
  });

  it('blames the training file for data errors that name no file', () => {
    // Prepare
    const errors = [
      new ExampleError('"messages" must be a non-empty array'),
      new DataError('no example has a token to train on'),
    ];

    // Act
    const classified = errors.map((error) => classifyFailure(error, PATHS));

    // Assess
    expect(classified).toEqual([
      {
        exitCode: 2,
        failure: {
          code: 'invalid_training_file',
          message: 'The training file cannot be used: "messages" must be a non-empty array',
          param: 'training_file',
        },
      },
      {
        exitCode: 2,
        failure: {
          code: 'invalid_training_file',
          message: 'The training file cannot be used: no example has a token to train on',
          param: 'training_file',
        },
      },
    ]);
  });

  it('blames the base model for a model file error, subclasses included', () => {
    // Prepare
    const errors = [
      new ModelFileError('"num_key_value_heads" (3) must divide "num_attention_heads" (4)', {
        file: '/job/model/config.json',
        field: 'num_key_value_heads',
      }),
      new MalformedModelFileError('tensor "lm_head.weight" is missing', {
        file: '/job/model/model.safetensors',
      }),
    ];

    // Act
    const classified = errors.map((error) => classifyFailure(error, PATHS));

    // Assess
    expect(classified).toEqual([
      {
        exitCode: 2,
        failure: {
          code: 'invalid_base_model',
          message:
            'The base model cannot be used: config.json: "num_key_value_heads" (3) must divide "num_attention_heads" (4)',
          param: 'model',
        },
      },
      {
        exitCode: 2,
        failure: {
          code: 'invalid_base_model',
          message: 'The base model cannot be used: model.safetensors: tensor "lm_head.weight" is missing',
          param: 'model',
        },
      },
    ]);
  });

  it('blames the base model for a tokenizer error', () => {
    // Prepare
    const errors = [
      new TokenizerFileError('"model.type" "Unigram" is not supported (supported: BPE)', {
        file: '/job/model/tokenizer.json',
        field: 'model.type',
      }),
      new TokenizerError('the chat template renders no assistant turn'),
    ];

    // Act
    const classified = errors.map((error) => classifyFailure(error, PATHS));

    // Assess
    expect(classified.map(({ failure }) => failure.message)).toEqual([
      'The base model cannot be used: tokenizer.json: "model.type" "Unigram" is not supported (supported: BPE)',
      'The base model cannot be used: the chat template renders no assistant turn',
    ]);
    expect(classified.map(({ exitCode, failure }) => [exitCode, failure.code, failure.param])).toEqual([
      [2, 'invalid_base_model', 'model'],
      [2, 'invalid_base_model', 'model'],
    ]);
  });

  it('blames the hyperparameters for settings that cannot work', () => {
    // Prepare
    const error = new TrainingConfigError(
      'batch_size',
      'batch_size 64 is more than the 10 training examples',
    );

    // Act
    const classified = classifyFailure(error, PATHS);

    // Assess
    expect(classified).toEqual({
      exitCode: 2,
      failure: {
        code: 'invalid_hyperparameters',
        message: "The job's settings cannot work: batch_size 64 is more than the 10 training examples",
        param: 'hyperparameters',
      },
    });
  });

  it('reports storage that stayed down as storage_unavailable, exiting 1 so the attempt is retried', () => {
    // Prepare
    const error = new StorageUnavailableError(
      'download s3://bucket/spec.json',
      7,
      new Error('connect ECONNREFUSED 127.0.0.1:4569'),
    );

    // Act
    const classified = classifyFailure(error, PATHS);

    // Assess
    expect(classified).toEqual({
      exitCode: 1,
      failure: {
        code: 'storage_unavailable',
        message:
          'Could not download s3://bucket/spec.json: S3 failed 7 tries in a row (last: connect ECONNREFUSED 127.0.0.1:4569)',
        param: null,
      },
    });
  });

  it('reports anything else as trainer_error, exiting 1', () => {
    // Prepare
    const errors: unknown[] = [new RangeError('Invalid array length'), 'a thrown string'];

    // Act
    const classified = errors.map((error) => classifyFailure(error, PATHS));

    // Assess
    expect(classified).toEqual([
      {
        exitCode: 1,
        failure: { code: 'trainer_error', message: 'The trainer failed: Invalid array length', param: null },
      },
      {
        exitCode: 1,
        failure: { code: 'trainer_error', message: 'The trainer failed: a thrown string', param: null },
      },
    ]);
  });
});

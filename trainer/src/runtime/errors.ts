/** What went wrong, as the job's `error` object shows it (OpenAI's `{code, message, param}`). */
export interface JobFailure {
  readonly code: string;
  readonly message: string;
  readonly param: string | null;
}

export interface TrainerInputErrorOptions {
  /** The job error code; default `invalid_job_spec`. */
  readonly code?: string;
  /** The request parameter at fault (`training_file`, `model`, ...), when there is one. */
  readonly param?: string | null;
  readonly cause?: unknown;
}

/**
 * The trainer's inputs are wrong: the job cannot run as given, and trying again will not help.
 * The trainer exits with `TrainerInputError.exitCode`, which the retry rule never retries.
 */
export class TrainerInputError extends Error {
  static readonly exitCode = 2;
  readonly code: string;
  readonly param: string | null;
  constructor(message: string, options: TrainerInputErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'TrainerInputError';
    this.code = options.code ?? 'invalid_job_spec';
    this.param = options.param ?? null;
  }
}

/** S3 failed every try of one call: the trainer stops, keeping every checkpoint already written. */
export class StorageUnavailableError extends Error {
  readonly what: string;
  readonly tries: number;
  constructor(what: string, tries: number, cause: unknown) {
    super(
      `Could not ${what}: S3 failed ${tries} tries in a row (last: ${cause instanceof Error ? cause.message || cause.name : String(cause)})`,
      { cause },
    );
    this.name = 'StorageUnavailableError';
    this.what = what;
    this.tries = tries;
  }
}

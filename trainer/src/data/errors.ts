import { basename } from 'node:path';

export interface DataErrorOptions {
  readonly cause?: unknown;
}

/** Base of every error the data module throws. */
export class DataError extends Error {
  constructor(message: string, options: DataErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'DataError';
  }
}

export interface ExampleErrorOptions extends DataErrorOptions {
  /** The field at fault as a path into the example (`messages[2].weight`); absent for the whole line. */
  readonly field?: string;
  /** The JSONL file and 1-based line the example came from, when it came from one. */
  readonly file?: string;
  readonly line?: number;
}

/**
 * A training example is unusable. From a file the message starts with `{file base name}:{line}: `, e.g.
 * `train.jsonl:3: "messages[1].weight" must be 0 or 1, got 2`.
 */
export class ExampleError extends DataError {
  readonly field?: string;
  readonly file?: string;
  readonly line?: number;

  constructor(message: string, options: ExampleErrorOptions = {}) {
    const prefix = options.file === undefined ? '' : `${basename(options.file)}:${options.line ?? '?'}: `;
    super(`${prefix}${message}`, options);
    this.name = 'ExampleError';
    if (options.field !== undefined) this.field = options.field;
    if (options.file !== undefined) this.file = options.file;
    if (options.line !== undefined) this.line = options.line;
  }
}

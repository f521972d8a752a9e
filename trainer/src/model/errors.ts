import { basename } from 'node:path';

export interface ModelFileErrorOptions {
  /** The file at fault, as the caller named it (a path); messages show its base name. */
  readonly file: string;
  /** The JSON field (`num_key_value_heads`, `rope_scaling.factor`) or tensor name at fault. */
  readonly field?: string;
  readonly cause?: unknown;
}

/**
 * A model file (config.json, a safetensors file, an index) cannot be used. The message always starts
 * with the file's base name and a colon, e.g.
 * `config.json: "num_key_value_heads" (3) must divide "num_attention_heads" (4)`; the constructor puts
 * it there unless the message already starts with it.
 */
export class ModelFileError extends Error {
  readonly file: string;
  readonly field?: string;

  constructor(message: string, options: ModelFileErrorOptions) {
    const prefix = `${basename(options.file)}: `;
    super(
      message.startsWith(prefix) ? message : `${prefix}${message}`,
      options.cause === undefined ? undefined : { cause: options.cause },
    );
    this.name = 'ModelFileError';
    this.file = options.file;
    if (options.field !== undefined) this.field = options.field;
  }
}

/** The file is well formed, but describes an architecture or a feature the engine does not implement. */
export class UnsupportedModelError extends ModelFileError {
  constructor(message: string, options: ModelFileErrorOptions) {
    super(message, options);
    this.name = 'UnsupportedModelError';
  }
}

/** The file is broken or inconsistent: truncated, bad JSON, wrong dtype, a tensor missing or misshapen. */
export class MalformedModelFileError extends ModelFileError {
  constructor(message: string, options: ModelFileErrorOptions) {
    super(message, options);
    this.name = 'MalformedModelFileError';
  }
}

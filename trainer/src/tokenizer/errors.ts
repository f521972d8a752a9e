import { basename } from 'node:path';

export interface TokenizerErrorOptions {
  readonly cause?: unknown;
}

/** Base of every error the tokenizer module throws. */
export class TokenizerError extends Error {
  constructor(message: string, options: TokenizerErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'TokenizerError';
  }
}

export interface TokenizerFileErrorOptions extends TokenizerErrorOptions {
  /** The file at fault, as the caller named it (a path); messages show its base name. */
  readonly file: string;
  /** The JSON field at fault as a dotted path (`model.type`, `chat_template`); absent for the whole file. */
  readonly field?: string;
}

/**
 * A tokenizer file (tokenizer.json, tokenizer_config.json, chat_template.jinja) is missing, malformed or
 * asks for something the tokenizer cannot do. The message starts with the file's base name and a colon,
 * e.g. `tokenizer.json: "model.type" "Unigram" is not supported (supported: BPE)`.
 */
export class TokenizerFileError extends TokenizerError {
  readonly file: string;
  readonly field?: string;

  constructor(message: string, options: TokenizerFileErrorOptions) {
    const prefix = `${basename(options.file)}: `;
    super(message.startsWith(prefix) ? message : `${prefix}${message}`, options);
    this.name = 'TokenizerFileError';
    this.file = options.file;
    if (options.field !== undefined) this.field = options.field;
  }
}

export interface ChatTemplateErrorOptions extends TokenizerErrorOptions {
  /** The messages the template was rendering, when the failure belongs to one conversation. */
  readonly messages?: readonly unknown[];
}

/**
 * Rendering a chat template failed: the template called `raise_exception`, hit a runtime error, or
 * (when finding assistant spans) is not prefix-stable.
 */
export class ChatTemplateError extends TokenizerError {
  readonly messages?: readonly unknown[];

  constructor(message: string, options: ChatTemplateErrorOptions = {}) {
    super(message, options);
    this.name = 'ChatTemplateError';
    if (options.messages !== undefined) this.messages = options.messages;
  }
}

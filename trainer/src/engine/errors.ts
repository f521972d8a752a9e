/** Base of every error the engine raises. */
export class EngineError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'EngineError';
  }
}

/** A buffer was used against its back end's rules: wrong dtype, a view outside it, a short write. */
export class BufferError extends EngineError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'BufferError';
  }
}

/** No back end of that name, or it cannot run on this machine. */
export class BackendUnavailableError extends EngineError {
  readonly backend: string;
  constructor(backend: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'BackendUnavailableError';
    this.backend = backend;
  }
}

/** Training settings that cannot work together, named by the setting. */
export class TrainingConfigError extends EngineError {
  readonly setting: string;
  constructor(setting: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TrainingConfigError';
    this.setting = setting;
  }
}

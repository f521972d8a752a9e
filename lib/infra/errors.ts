/** The deployment's configuration cannot be used; the message names the field and the problem. */
export class InfraConfigError extends Error {
  /** The field at fault as a dotted path (`storage.noncurrentVersionDays`); `(root)` for the whole file. */
  readonly field: string;
  constructor(source: string, field: string, problem: string, options?: { cause?: unknown }) {
    super(`${source}: ${field}: ${problem}`, options);
    this.name = 'InfraConfigError';
    this.field = field;
  }
}

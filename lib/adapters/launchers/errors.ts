import type { LaunchRequest } from './launcher';

/**
 * A launcher could not do what it was asked. These are the platform's own failures, never the
 * caller's: the HTTP edge renders them as a 500, and the job keeps the state it had.
 */
export class LauncherError extends Error {
  constructor(message: string, options: { readonly cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = new.target.name;
  }
}

/** The compute refused or never answered a launch; `cause` holds the SDK's error when there was one. */
export class LaunchFailedError extends LauncherError {
  constructor(
    message: string,
    readonly request: LaunchRequest,
    options: { readonly cause?: unknown } = {},
  ) {
    super(message, options);
  }
}

export class TerminateFailedError extends LauncherError {
  constructor(
    message: string,
    readonly computeJobId: string,
    options: { readonly cause?: unknown } = {},
  ) {
    super(message, options);
  }
}

/** The local launcher was given options it cannot run with; `option` names the one at fault. */
export class InvalidLauncherOptionsError extends LauncherError {
  constructor(
    readonly option: string,
    problem: string,
  ) {
    super(`Local launcher option '${option}' ${problem}`);
  }
}

/** The local launcher is shutting down and takes no more work. */
export class LauncherClosedError extends LauncherError {}

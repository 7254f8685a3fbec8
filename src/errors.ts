/** Exit codes shared by every command: 0 done, 1 failed, 2 usage error. */
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

/**
 * An error a user can act on: `message` says what is wrong, `hint` what to do.
 * The CLI prints both and no stack trace (unless --verbose).
 */
export class PilotError extends Error {
  readonly hint?: string;
  readonly exitCode: number;
  constructor(message: string, opts: { hint?: string; cause?: unknown; exitCode?: number } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = "PilotError";
    this.hint = opts.hint;
    this.exitCode = opts.exitCode ?? EXIT_FAILED;
  }
}

/** Bad flags or arguments: exit code 2, nothing was touched. */
export class UsageError extends PilotError {
  constructor(message: string, hint?: string) {
    super(message, { hint, exitCode: EXIT_USAGE });
    this.name = "UsageError";
  }
}

/** The text of any thrown value, for wrapping SDK errors with context. */
export function errorText(err: unknown): string {
  if (err instanceof Error) {
    const name = err.name && err.name !== "Error" && !err.message.startsWith(err.name) ? `${err.name}: ` : "";
    return `${name}${err.message}`;
  }
  return String(err);
}

/** Wraps an SDK error with the action and resource it happened in (giget style). */
export function wrapError(action: string, err: unknown): PilotError {
  if (err instanceof PilotError) return err;
  return new PilotError(`${action}: ${errorText(err)}`, { cause: err });
}

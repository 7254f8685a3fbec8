/**
 * Bootstrap's data model: steps are plain data (argv arrays and file
 * uploads) built by pure functions in ./steps; an Executor runs them on the
 * server (ssh2), on the local machine, or records them (tests, --dry-run).
 */

/** What a command returned. A non-zero `code` is data, not an exception. */
export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Options for one command. */
export interface ExecOptions {
  /** Written to the command's standard input, then closed. Used for secrets, so they never appear in argv. */
  stdin?: string;
  /** Kills the command after this long; the result then has code 124 (like coreutils `timeout`). */
  timeoutMs?: number;
  /** Stops the command when aborted, as a timeout does (code 124): a watcher that has learned the outcome elsewhere. */
  signal?: AbortSignal;
  /** Sees the output as it comes (a long job's log); the result still holds all of it. */
  onOutput?: (chunk: string, stream: "stdout" | "stderr") => void;
}

/** Runs argv (never through a local shell) and writes files on the target. */
export interface Executor {
  run(argv: string[], opts?: ExecOptions): Promise<ExecResult>;
  /** Writes a file with the given mode, replacing any previous content. */
  upload(path: string, content: string | Buffer, mode: number): Promise<void>;
  close(): Promise<void>;
}

/** One command of a step. */
export interface Command {
  argv: string[];
  /** Secret or bulky input; shown as `<stdin: N bytes>` in recordings, never its content. */
  stdin?: string;
  timeoutMs?: number;
  /**
   * For checks: besides exit 0, the command's stdout (trimmed) must equal
   * this, or hash (sha256 hex of the untrimmed stdout) to `sha256`.
   */
  expect?: { stdout: string } | { sha256: string };
}

/** A file to write on the target (apply only). */
export interface Upload {
  upload: string;
  content: string | Buffer;
  mode: number;
}

/** Something an apply does. */
export type Action = Command | Upload;

/** Polling settings for steps that wait (package manager free, server answering). */
export interface WaitPolicy {
  /** Give up after this long; the step fails with the last check's output. */
  timeoutMs: number;
  intervalMs: number;
}

/**
 * One idempotent bootstrap step. `check` commands all succeeding means the
 * step is already done; otherwise `apply` runs and (unless `recheck` is
 * false) the checks run again to prove it worked. A step with `wait` has no
 * apply: its check is polled until it passes or the wait times out.
 */
export interface Step {
  name: string;
  /** One line for humans and --dry-run: what apply does. */
  description: string;
  check: Command[];
  apply: Action[];
  wait?: WaitPolicy;
  /** Retry the whole apply on failure (e.g. adopting a runner that has not registered yet). */
  retryApply?: WaitPolicy;
  /** Default true. */
  recheck?: boolean;
}

export function isUpload(a: Action): a is Upload {
  return (a as Upload).upload !== undefined;
}

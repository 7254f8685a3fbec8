import { shellJoin } from "./shell-quote.js";
import type { ExecOptions, ExecResult, Executor } from "./types.js";

/** One canned answer: which commands it matches and what they return. */
export interface CannedResult {
  /** A substring of the shell-quoted command line, a regex on it, or a predicate on argv. */
  match: string | RegExp | ((argv: string[]) => boolean);
  result: Partial<ExecResult>;
  /** Answer this many times, then fall through to later entries (default: forever). */
  times?: number;
}

/** What the executor saw, in order. */
export type Recorded =
  | { kind: "run"; argv: string[]; line: string; stdin?: string }
  | { kind: "upload"; path: string; mode: number; bytes: number; line: string };

/**
 * Records every command instead of running it and answers from a script of
 * canned results (first matching entry wins; no match gives `fallback`).
 * `lines()` prints what was run, stdin shown only as its size, for tests and
 * --dry-run output.
 */
export class RecordingExecutor implements Executor {
  readonly recorded: Recorded[] = [];
  private readonly script: CannedResult[];

  constructor(script: CannedResult[] = [], private readonly fallback: ExecResult = { code: 0, stdout: "", stderr: "" }) {
    this.script = script.map((s) => ({ ...s }));
  }

  /** Adds canned answers after construction (they take precedence over earlier ones). */
  respond(...entries: CannedResult[]): this {
    this.script.unshift(...entries.map((e) => ({ ...e })));
    return this;
  }

  async run(argv: string[], opts: ExecOptions = {}): Promise<ExecResult> {
    const line = shellJoin(argv) + (opts.stdin !== undefined ? ` <stdin: ${Buffer.byteLength(opts.stdin)} bytes>` : "");
    this.recorded.push({ kind: "run", argv: [...argv], line, stdin: opts.stdin });
    const joined = shellJoin(argv);
    for (const entry of this.script) {
      if (entry.times !== undefined && entry.times <= 0) continue;
      const m = entry.match;
      const hit = typeof m === "string" ? joined.includes(m) : m instanceof RegExp ? m.test(joined) : m(argv);
      if (!hit) continue;
      if (entry.times !== undefined) entry.times -= 1;
      return { code: 0, stdout: "", stderr: "", ...entry.result };
    }
    return { ...this.fallback };
  }

  async upload(path: string, content: string | Buffer, mode: number): Promise<void> {
    const bytes = Buffer.byteLength(content);
    this.recorded.push({ kind: "upload", path, mode, bytes, line: `upload ${path} (mode ${mode.toString(8).padStart(4, "0")}, ${bytes} bytes)` });
  }

  async close(): Promise<void> {}

  /** Every recorded line, in order. */
  lines(): string[] {
    return this.recorded.map((r) => r.line);
  }

  /** Only the run commands' argv. */
  commands(): string[][] {
    return this.recorded.flatMap((r) => (r.kind === "run" ? [r.argv] : []));
  }
}

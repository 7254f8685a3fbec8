import { spawn } from "node:child_process";
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from "node:fs";
import { chmod, mkdir, rename, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import type { ExecOptions, ExecResult, Executor } from "./types.js";

/**
 * Standard input as an already-unlinked file rather than a pipe: Node's
 * stdio pipes are sockets, which `open("/dev/stdin")` refuses (ENXIO), and
 * steps pass secrets as `docker run --env-file /dev/stdin`. The file lives in
 * a private 0700 folder for the moment between write and unlink; afterwards
 * only the open descriptor reaches it.
 */
function stdinFile(content: string): number {
  const dir = mkdtempSync(join(tmpdir(), "pilot-stdin-"));
  const path = join(dir, "stdin");
  try {
    writeFileSync(path, content, { mode: 0o600 });
    return openSync(path, "r");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Exit code reported when a command outlives its timeout (as coreutils `timeout` does). */
export const TIMEOUT_CODE = 124;

/**
 * Runs commands on this machine: for the local provider, `docker` against
 * the user's own engine. argv goes straight to execve (no shell), so nothing
 * needs quoting. A missing program is reported as exit 127, like a shell would.
 */
export class LocalExecutor implements Executor {
  constructor(private readonly env: NodeJS.ProcessEnv = process.env) {}

  run(argv: string[], opts: ExecOptions = {}): Promise<ExecResult> {
    const stdinFd = opts.stdin === undefined ? undefined : stdinFile(opts.stdin);
    return new Promise<ExecResult>((resolve) => {
      const child = spawn(argv[0]!, argv.slice(1), { env: this.env, stdio: [stdinFd ?? "pipe", "pipe", "pipe"] });
      let stdout = "";
      let stderr = "";
      let timedOut = false;
      const stop = () => {
        timedOut = true;
        child.kill("SIGKILL");
      };
      const timer = opts.timeoutMs ? setTimeout(stop, opts.timeoutMs) : undefined;
      if (opts.signal?.aborted) stop();
      else opts.signal?.addEventListener("abort", stop, { once: true });
      child.stdout!.setEncoding("utf8").on("data", (d: string) => {
        stdout += d;
        opts.onOutput?.(d, "stdout");
      });
      child.stderr!.setEncoding("utf8").on("data", (d: string) => {
        stderr += d;
        opts.onOutput?.(d, "stderr");
      });
      if (child.stdin) {
        child.stdin.on("error", () => {}); // the command may exit without reading its input
        child.stdin.end();
      }
      child.on("error", (err: NodeJS.ErrnoException) => {
        if (timer) clearTimeout(timer);
        opts.signal?.removeEventListener("abort", stop);
        resolve({ code: err.code === "ENOENT" ? 127 : 126, stdout, stderr: stderr + `${argv[0]}: ${err.message}\n` });
      });
      child.on("close", (code) => {
        if (timer) clearTimeout(timer);
        opts.signal?.removeEventListener("abort", stop);
        resolve({ code: timedOut ? TIMEOUT_CODE : (code ?? 1), stdout, stderr });
      });
    }).finally(() => {
      if (stdinFd !== undefined) closeSync(stdinFd);
    });
  }

  /** Writes via a temp file and rename, so a reader never sees half a file. */
  async upload(path: string, content: string | Buffer, mode: number): Promise<void> {
    await mkdir(dirname(path), { recursive: true });
    const tmp = `${path}.${process.pid}.tmp`;
    await writeFile(tmp, content, { mode });
    await chmod(tmp, mode);
    await rename(tmp, path);
  }

  async close(): Promise<void> {}
}

import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

/** The built CLI (`npm run build`): tests run the real program, as a user would. */
export const CLI = fileURLToPath(new URL("../../dist/cli.js", import.meta.url));

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** stdout parsed as JSON, when --json was given. */
  json?: any;
}

/** Runs `pilot ARGS` in a child process with the given environment additions. */
export function runCli(args: string[], env: NodeJS.ProcessEnv = {}, opts: { nodeArgs?: string[]; timeoutMs?: number; onSpawn?: (pid: number) => void; input?: string } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...(opts.nodeArgs ?? []), CLI, ...args], {
      env: { ...process.env, CI: "true", ...env },
      stdio: [opts.input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
    });
    if (opts.input !== undefined) child.stdin!.end(opts.input);
    if (child.pid) opts.onSpawn?.(child.pid);
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (d) => (stdout += d));
    child.stderr!.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs ?? 240_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      let json: unknown;
      if (args.includes("--json")) {
        try {
          json = JSON.parse(stdout);
        } catch {
          json = undefined;
        }
      }
      resolve({ code, stdout, stderr, json });
    });
  });
}

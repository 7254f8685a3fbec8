/**
 * Runs a command on a pseudo-terminal, as a person at a terminal would, with
 * util-linux's `script` (present on every Debian system, no native Node
 * module to build): `script -qfec CMD /dev/null` gives CMD a pty whose input
 * is what we write to script's stdin and whose output (with the terminal's
 * control sequences) is script's stdout.
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from "node:child_process";
import { shellJoin } from "../../src/bootstrap/shell-quote.js";

/** True when util-linux's script is installed (the tests that need it say why they skip). */
export function hasScript(): boolean {
  return spawnSync("script", ["--version"], { encoding: "utf8" }).stdout?.includes("util-linux") ?? false;
}

/** Control sequences removed, so prompts can be matched as text. */
export function plain(text: string): string {
  // CSI sequences (colours, cursor moves, erase) and OSC titles.
  return text.replace(/\x1b\[[0-9;?]*[ -/]*[@-~]/g, "").replace(/\x1b\][^\x07]*\x07/g, "");
}

export class Pty {
  private out = "";
  private readonly child: ChildProcessWithoutNullStreams;
  readonly exited: Promise<number | null>;

  constructor(argv: string[], env: NodeJS.ProcessEnv, opts: { cols?: number } = {}) {
    // A fixed width: clack wraps and redraws by the terminal's size.
    const cmd = `stty cols ${opts.cols ?? 120} rows 40 2>/dev/null; exec ${shellJoin(argv)}`;
    this.child = spawn("script", ["-qfec", cmd, "/dev/null"], { env, stdio: ["pipe", "pipe", "pipe"] });
    this.child.stdout.setEncoding("utf8").on("data", (d: string) => (this.out += d));
    this.child.stderr.setEncoding("utf8").on("data", (d: string) => (this.out += d));
    this.exited = new Promise((resolve) => this.child.on("close", (code) => resolve(code)));
  }

  /** Everything the terminal has shown so far, control sequences included. */
  get output(): string {
    return this.out;
  }

  /** Waits until the terminal shows `pattern` after `from` characters of output; returns where it ended. */
  async waitFor(pattern: RegExp, timeoutMs = 20_000, from = 0): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const rest = plain(this.out.slice(from));
      const m = pattern.exec(rest);
      if (m) return this.out.length;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern} on the terminal; it shows:\n${plain(this.out)}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Types keys into the terminal. */
  write(keys: string): void {
    this.child.stdin.write(keys);
  }

  kill(): void {
    this.child.kill("SIGKILL");
  }
}

export const KEY = { enter: "\r", down: "\x1b[B", up: "\x1b[A", ctrlC: "\x03" } as const;

import { EXIT_FAILED, PilotError, UsageError } from "../errors.js";
import { checkStackName, pilotHome, stackDir } from "../state/paths.js";
import { StateStore } from "../state/store.js";
import { createRenderer, type Renderer } from "../ui/renderer.js";

/** What every command works with; built once from the parsed flags. Tests swap env and streams. */
export interface CommandContext {
  home: string;
  stack: string;
  stackDir: string;
  json: boolean;
  verbose: boolean;
  /** Prompts are allowed only on a terminal and never with --json. */
  interactive: boolean;
  env: NodeJS.ProcessEnv;
  ui: Renderer;
  store: StateStore;
}

export function buildContext(command: string, args: { name?: string; json?: boolean; verbose?: boolean }): CommandContext {
  const stack = checkStackName(args.name ?? "default");
  const home = pilotHome();
  const json = Boolean(args.json);
  return {
    home,
    stack,
    stackDir: stackDir(home, stack),
    json,
    verbose: Boolean(args.verbose),
    interactive: Boolean(process.stdin.isTTY && process.stderr.isTTY) && !json && !process.env.CI,
    env: process.env,
    ui: createRenderer({ json, command, stack }),
    store: new StateStore(home, stack),
  };
}

/** Asks a yes/no question on the terminal; never called when not interactive. */
export async function confirm(question: string): Promise<boolean> {
  const { createInterface } = await import("node:readline/promises");
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await rl.question(`${question} [y/N] `);
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}

/**
 * Gets consent for a destructive change: --yes, or a prompt on a terminal.
 * Without either it stops with a usage error rather than guessing.
 */
export async function requireConsent(ctx: CommandContext, yes: boolean | undefined, question: string): Promise<void> {
  if (yes) return;
  if (!ctx.interactive) {
    throw new UsageError(`${question.replace(/\?$/, "")}: this needs confirmation.`, "Run it again with --yes (no terminal to ask on).");
  }
  if (!(await confirm(question))) {
    throw new PilotError("Cancelled; nothing was changed.");
  }
}

/** Sets the exit code for a finished command (never process.exit: cleanup must run). */
export function setFailed(): void {
  process.exitCode = EXIT_FAILED;
}

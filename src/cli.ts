#!/usr/bin/env node
/**
 * Entry point: resolves the subcommand, imports only that command's module
 * (so `pilot --help` loads no cloud SDK), rejects unknown flags, runs it, and
 * maps errors to one or two sentences and an exit code (0 done, 1 failed,
 * 2 usage). Commands never call process.exit: they set process.exitCode so
 * their cleanup (SSH connections, locks) always runs.
 */
import { parseArgs, renderUsage, runCommand, type ArgsDef, type CommandDef } from "citty";
import { EXIT_FAILED, EXIT_USAGE, PilotError, UsageError, errorText } from "./errors.js";
import { tidyText } from "./ui/terminal.js";
import { filterSdkWarnings } from "./ui/warnings.js";

type Loader = () => Promise<CommandDef<any>>;
const load = (p: Promise<{ default: CommandDef<any> }>) => p.then((m) => m.default);

/** Every command, lazily: the import happens only when that command runs. */
export const COMMANDS: Record<string, { loader: Loader; summary: string }> = {
  init: { loader: () => load(import("./commands/init.js")), summary: "Create $PILOT_HOME and check local prerequisites" },
  "up-server": { loader: () => load(import("./commands/up-server.js")), summary: "Create or reconcile the server stack, then bootstrap it (alias: setup)" },
  status: { loader: () => load(import("./commands/status.js")), summary: "Resources, drift, server and runner health" },
  teardown: { loader: () => load(import("./commands/teardown.js")), summary: "Remove every resource of the server stack" },
  server: { loader: () => load(import("./commands/server.js")), summary: "Connection details: --db, --ui, --token, --ssh" },
  unlock: { loader: () => load(import("./commands/unlock.js")), summary: "Remove a stale state lock" },
  new: { loader: () => load(import("./commands/new.js")), summary: "new project: register a git repository; new app: write an app's waypoint.hcl" },
  up: { loader: () => load(import("./commands/up.js")), summary: "Build, deploy and release PROJECT/APP on the server's runner" },
  env: { loader: () => load(import("./commands/env.js")), summary: "An app's configuration: env set|unset|list PROJECT/APP" },
  logs: { loader: () => load(import("./commands/logs.js")), summary: "An app's logs (--follow to keep reading)" },
  destroy: { loader: () => load(import("./commands/destroy.js")), summary: "Remove PROJECT/APP's deployments and what Pilot made for it" },
  apps: { loader: () => load(import("./commands/apps.js")), summary: "Projects and apps, with their last deployment" },
};
const ALIASES: Record<string, string> = { setup: "up-server" };

const VERSION = "0.1.0";

function mainUsage(): string {
  const w = Math.max(...Object.keys(COMMANDS).map((k) => k.length));
  return [
    `Pilot ${VERSION}: your own PaaS on the cloud account you already have.`,
    "",
    "Usage: pilot <command> [--name STACK] [--json] [options]",
    "",
    "Commands:",
    ...Object.entries(COMMANDS).map(([k, c]) => `  ${k.padEnd(w)}  ${c.summary}`),
    "",
    "Run `pilot <command> --help` for a command's options. Files live in $PILOT_HOME (default ~/.pilot).",
  ].join("\n");
}

const PROVIDER_WORDS = ["aws", "gcp", "local"];

/**
 * The earlier Pilot's forms: `pilot setup gcp` and `pilot setup --gcp` (and
 * aws, local) mean `pilot up-server --provider gcp`. The bare word counts only
 * right after `setup` (elsewhere it could be a flag's value, e.g. `--name gcp`).
 */
export function setupArgs(rest: string[]): string[] {
  const [head, ...tail] = rest;
  if (head !== undefined && PROVIDER_WORDS.includes(head)) return ["--provider", head, ...tail];
  return rest.flatMap((a) => (a.startsWith("--") && PROVIDER_WORDS.includes(a.slice(2)) ? ["--provider", a.slice(2)] : [a]));
}

/** Rejects flags the command does not define (citty itself accepts anything). */
export function checkFlags(argsDef: ArgsDef, rawArgs: string[], command: string): void {
  const known = new Set<string>(["help", "h"]);
  for (const [name, def] of Object.entries(argsDef)) {
    known.add(name);
    if (def.type === "boolean") known.add(`no-${name}`);
    const aliases = "alias" in def && def.alias ? (Array.isArray(def.alias) ? def.alias : [def.alias]) : [];
    for (const a of aliases) known.add(a);
  }
  const declared = Object.values(argsDef).filter((d) => d.type === "positional");
  // A positional whose value hint ends in "..." (KEY=VALUE...) takes any number of words.
  const positional = declared.some((d) => String(d.valueHint ?? "").endsWith("...")) ? Infinity : declared.length;
  let positionals = 0;
  for (let i = 0; i < rawArgs.length; i++) {
    const arg = rawArgs[i];
    if (arg === "--") break;
    if (!arg.startsWith("-")) {
      positionals++;
      if (positionals > positional) {
        throw new UsageError(`Unexpected argument "${arg}" for pilot ${command}.`, `Run \`pilot ${command} --help\` for its options.`);
      }
      continue;
    }
    const name = arg.replace(/^--?/, "").split("=")[0];
    if (!known.has(name)) {
      throw new UsageError(`Unknown option "${arg.split("=")[0]}" for pilot ${command}.`, `Run \`pilot ${command} --help\` for its options.`);
    }
    const def = argsDef[name] ?? Object.values(argsDef).find((d) => "alias" in d && ([] as string[]).concat(d.alias ?? []).includes(name));
    if (def && (def.type === "string" || def.type === "enum") && !arg.includes("=")) {
      const next = rawArgs[i + 1];
      if (next === undefined || next.startsWith("--")) {
        throw new UsageError(`Option "--${name}" needs a value.`, `Run \`pilot ${command} --help\` for its options.`);
      }
      i++;
    }
  }
}

const resolved = async <T>(v: T | Promise<T> | (() => T | Promise<T>)): Promise<T> => (typeof v === "function" ? (v as () => T | Promise<T>)() : v);

/**
 * `pilot new app ...`: descends into subcommands, taking their names off the
 * front of `rest`; the leaf then runs with only its own arguments.
 */
async function resolveSubCommand(root: CommandDef<any>, name: string, rest: string[]): Promise<{ cmd: CommandDef<any>; parent?: CommandDef<any>; path: string }> {
  let cmd = root;
  let parent: CommandDef<any> | undefined;
  let path = name;
  while (cmd.subCommands && rest[0] !== undefined && !rest[0].startsWith("-")) {
    const subs = await resolved(cmd.subCommands);
    const sub = subs[rest[0]];
    if (!sub) throw new UsageError(`Unknown command "pilot ${path} ${rest[0]}".`, `Run \`pilot ${path} --help\` for its subcommands.`);
    parent = cmd;
    cmd = await resolved(sub);
    path = `${path} ${rest.shift()}`;
  }
  return { cmd, parent, path };
}

/** Runs the CLI with the given arguments; resolves to the exit code. */
export async function main(argv: string[]): Promise<number> {
  const restore = filterSdkWarnings();
  const wantsJson = argv.includes("--json");
  const verbose = argv.includes("--verbose");
  try {
    const [first, ...rest] = argv;
    if (first === undefined || first === "--help" || first === "-h" || first === "help") {
      process.stdout.write(mainUsage() + "\n");
      return first === undefined ? EXIT_USAGE : 0;
    }
    if (first === "--version" || first === "-v") {
      process.stdout.write(VERSION + "\n");
      return 0;
    }
    const name = ALIASES[first] ?? first;
    if (first === "setup") rest.splice(0, rest.length, ...setupArgs(rest));
    const entry = COMMANDS[name];
    if (!entry) throw new UsageError(`Unknown command "${first}".`, "Run `pilot --help` for the list of commands.");
    const { cmd, parent, path } = await resolveSubCommand(await entry.loader(), name, rest);
    if (rest.includes("--help") || rest.includes("-h") || (cmd.subCommands && !cmd.run)) {
      // citty colours and pads its help by its own rules; tidyText makes it fit where it goes.
      process.stdout.write(tidyText(await renderUsage(cmd, parent), process.stdout) + "\n");
      return rest.includes("--help") || rest.includes("-h") ? 0 : EXIT_USAGE;
    }
    const argsDef = (typeof cmd.args === "function" ? await (cmd.args as () => ArgsDef)() : await cmd.args) ?? {};
    checkFlags(argsDef, rest, path);
    parseArgs(rest, argsDef);
    await runCommand(cmd, { rawArgs: rest });
    return typeof process.exitCode === "number" ? process.exitCode : 0;
  } catch (err) {
    return reportError(err, { json: wantsJson, verbose });
  } finally {
    restore();
  }
}

/** Prints an error as one or two sentences (plus the stack with --verbose) and picks the exit code. */
export function reportError(err: unknown, opts: { json: boolean; verbose: boolean }): number {
  const pilot = err instanceof PilotError ? err : undefined;
  // citty's own argument errors (e.g. a missing required positional) are usage errors too.
  const cittyUsage = !pilot && err instanceof Error && /^E_/.test(String((err as { code?: string }).code ?? ""));
  const code = pilot ? pilot.exitCode : cittyUsage ? EXIT_USAGE : EXIT_FAILED;
  const message = pilot ? pilot.message : cittyUsage ? (err as Error).message : `Unexpected error: ${errorText(err)}`;
  const hint = pilot?.hint ?? (pilot || cittyUsage ? undefined : "Run again with --verbose for details, and report it if it persists.");
  if (opts.json) {
    process.stdout.write(JSON.stringify({ ok: false, error: { message, hint, exitCode: code } }, null, 2) + "\n");
  }
  process.stderr.write(`Error: ${message}\n${hint ? `${hint}\n` : ""}`);
  if (opts.verbose && err instanceof Error && err.stack) process.stderr.write(err.stack + "\n");
  return code;
}

// Run only when executed as the program, not when imported by tests.
const isEntry = process.argv[1] && import.meta.url === (await import("node:url")).pathToFileURL((await import("node:fs")).realpathSync(process.argv[1])).href;
if (isEntry) {
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}

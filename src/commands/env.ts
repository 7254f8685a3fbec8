/**
 * `pilot env set|unset|list PROJECT/APP`: the app's configuration on the
 * Waypoint server, handed to the app at run time by Waypoint's entrypoint
 * (a new value reaches it on its next `pilot up`). Values go to the server
 * on stdin, never argv; `list` redacts them unless --show.
 */
import { defineCommand } from "citty";
import { UsageError } from "../errors.js";
import { parseAppRef, type AppRef } from "../apps/app-ref.js";
import type { ServerSession } from "../apps/server-session.js";
import { buildContext, type CommandContext } from "./context.js";
import { loadStack } from "./load-stack.js";
import { commonArgs } from "./shared-args.js";

const target = { type: "positional", required: false, description: "The app, as PROJECT/APP", valueHint: "PROJECT/APP" } as const;

/** Opens the stack's server for one env subcommand and closes everything after. */
async function onServer(command: string, args: { app?: string; name?: string; json?: boolean; verbose?: boolean }, fn: (ctx: CommandContext, s: ServerSession, ref: AppRef) => Promise<void>): Promise<void> {
  const ref = parseAppRef(args.app, command);
  const ctx = buildContext(command, args);
  try {
    const { state, provider } = await loadStack(ctx);
    const { openServerSession } = await import("../apps/server-session.js");
    const session = await openServerSession(ctx, state, provider);
    try {
      await fn(ctx, session, ref);
    } finally {
      await session.close();
      provider.close?.();
    }
  } finally {
    ctx.ui.close();
  }
}

/** Positionals after PROJECT/APP: citty gathers every positional in `_` (flag values excluded). */
function trailing(args: { _: string[] }): string[] {
  return args._.slice(1);
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString("utf8").replace(/\r?\n$/, "");
}

const set = defineCommand({
  meta: { name: "set", description: "Set variables: KEY=VALUE ... (KEY=- reads that value from stdin)" },
  args: { ...commonArgs, app: target, pairs: { type: "positional", required: false, description: "KEY=VALUE pairs", valueHint: "KEY=VALUE..." } },
  async run({ args }) {
    const { checkConfigKey } = await import("../apps/app-config.js");
    const pairs = trailing(args);
    if (pairs.length === 0) throw new UsageError("pilot env set needs at least one KEY=VALUE.", "Run `pilot env set PROJECT/APP KEY=VALUE` (KEY=- reads the value from stdin).");
    const vars: Record<string, string> = {};
    const fromStdin = pairs.filter((p) => p.endsWith("=-"));
    if (fromStdin.length > 1) throw new UsageError("Only one KEY=- can read its value from stdin.");
    for (const p of pairs) {
      const eq = p.indexOf("=");
      if (eq <= 0) throw new UsageError(`"${p}" is not KEY=VALUE.`);
      vars[checkConfigKey(p.slice(0, eq))] = p.slice(eq + 1);
    }
    if (fromStdin.length === 1) {
      if (process.stdin.isTTY) throw new UsageError(`${fromStdin[0]} reads the value from stdin, which is a terminal here.`, "Pipe the value in.");
      vars[fromStdin[0]!.slice(0, -2)] = await readStdin();
    }
    await onServer("env set", args, async (ctx, session, ref) => {
      ctx.ui.addSecrets(Object.values(vars));
      const { setConfig } = await import("../apps/app-config.js");
      await setConfig(session, ref.project, ref.app, vars);
      const keys = Object.keys(vars);
      ctx.ui.result({ ok: true, app: ref.key, set: keys }, [`Set ${keys.join(", ")} for ${ref.key}; the app sees it after its next \`pilot up ${ref.key}\`.`]);
    });
  },
});

const unset = defineCommand({
  meta: { name: "unset", description: "Remove variables: KEY ..." },
  args: { ...commonArgs, app: target, keys: { type: "positional", required: false, description: "Variable names", valueHint: "KEY..." } },
  async run({ args }) {
    const keys = trailing(args);
    if (keys.length === 0) throw new UsageError("pilot env unset needs at least one KEY.");
    await onServer("env unset", args, async (ctx, session, ref) => {
      const { unsetConfig } = await import("../apps/app-config.js");
      await unsetConfig(session, ref.project, ref.app, keys);
      ctx.ui.result({ ok: true, app: ref.key, unset: keys }, [`Removed ${keys.join(", ")} from ${ref.key}.`]);
    });
  },
});

const list = defineCommand({
  meta: { name: "list", description: "List the app's variables (values hidden unless --show)" },
  args: { ...commonArgs, app: target, show: { type: "boolean", description: "Show the values" } },
  async run({ args }) {
    await onServer("env list", args, async (ctx, session, ref) => {
      const { listConfig } = await import("../apps/app-config.js");
      const vars = await listConfig(session, ref.project, ref.app);
      const keys = Object.keys(vars).sort();
      if (args.show) {
        // Asked for: the one place values are printed, so the renderer's redaction is bypassed.
        process.stdout.write(args.json ? JSON.stringify({ ok: true, app: ref.key, variables: vars }, null, 2) + "\n" : keys.map((k) => `${k}=${vars[k]}`).join("\n") + (keys.length ? "\n" : ""));
        return;
      }
      const hidden = Object.fromEntries(keys.map((k) => [k, "<redacted>"]));
      ctx.ui.result({ ok: true, app: ref.key, variables: hidden }, keys.length ? keys.map((k) => `${k}=<redacted>`) : [`${ref.key} has no variables.`]);
    });
  },
});

export default defineCommand({
  meta: { name: "env", description: "An app's configuration on the server: set, unset, list" },
  subCommands: { set, unset, list },
});

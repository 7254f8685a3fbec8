/**
 * `pilot logs PROJECT/APP [--follow]`: the app's output. For an app beside
 * the server (docker target) it is its container's log, read on the server
 * host; elsewhere Waypoint's log stream (`waypoint logs`), which the
 * entrypoint feeds from ECS tasks or Cloud Run instances.
 */
import { defineCommand } from "citty";
import { PilotError, UsageError } from "../errors.js";
import { appRecord, parseAppRef } from "../apps/app-ref.js";
import { buildContext } from "./context.js";
import { loadStack } from "./load-stack.js";
import { commonArgs } from "./shared-args.js";

/** Without --follow, Waypoint's stream (which never ends by itself) is read this long. */
const SNAPSHOT_MS = 10_000;

export default defineCommand({
  meta: { name: "logs", description: "Show an app's logs (--follow to keep reading)" },
  args: {
    ...commonArgs,
    app: { type: "positional", required: false, description: "The app, as PROJECT/APP", valueHint: "PROJECT/APP" },
    follow: { type: "boolean", alias: "f", description: "Keep printing new lines until interrupted" },
    tail: { type: "string", description: "How many recent lines to start from (docker target; default 200)", valueHint: "N" },
  },
  async run({ args }) {
    const ref = parseAppRef(args.app, "logs");
    const tail = args.tail ?? "200";
    if (!/^\d+$/.test(tail)) throw new UsageError(`--tail "${tail}" is not a number of lines.`);
    const ctx = buildContext("logs", args);
    try {
      const { state, provider } = await loadStack(ctx);
      const { openServerSession } = await import("../apps/server-session.js");
      const session = await openServerSession(ctx, state, provider);
      const lines: string[] = [];
      // Log lines are the app's own output: printed as they come (stdout in human mode), secrets still redacted.
      const print = (chunk: string) => {
        lines.push(chunk);
        if (!ctx.json) process.stdout.write(ctx.ui.redact(chunk));
      };
      try {
        const record = appRecord(state, ref);
        if (record?.target === "docker") {
          const { appContainers } = await import("../apps/docker-target.js");
          const newest = (await appContainers(session, ref.key))[0];
          if (!newest) throw new PilotError(`${ref.key} has no container on the server.`, { hint: `Deploy it with \`pilot up ${ref.key}\`.` });
          await session.docker(["logs", "--tail", tail, ...(args.follow ? ["--follow"] : []), newest.id], { onOutput: print });
        } else {
          await session.waypoint(["logs", `-project=${ref.project}`, `-app=${ref.app}`, "-plain"], {
            onOutput: print,
            ...(args.follow ? {} : { timeoutMs: SNAPSHOT_MS }),
          });
        }
        if (ctx.json) ctx.ui.result({ ok: true, app: ref.key, log: ctx.ui.redact(lines.join("")) }, []);
      } finally {
        await session.close();
        provider.close?.();
      }
    } finally {
      ctx.ui.close();
    }
  },
});

import { defineCommand } from "citty";
import { commonArgs } from "./shared-args.js";
import { buildContext } from "./context.js";
import { forceUnlock } from "../state/lock.js";

export default defineCommand({
  meta: { name: "unlock", description: "Remove a stale state lock after checking its holder is gone" },
  args: {
    ...commonArgs,
    force: { type: "boolean", description: "Remove a lock held from another machine without checking" },
  },
  run({ args }) {
    const ctx = buildContext("unlock", args);
    const holder = forceUnlock(ctx.store.lockFile, ctx.stack, Boolean(args.force));
    ctx.ui.result(
      { ok: true, removed: holder ?? null },
      [holder ? `Removed the lock of pid ${holder.pid} on ${holder.host} (pilot ${holder.command}).` : `Stack "${ctx.stack}" was not locked.`],
    );
    ctx.ui.close();
  },
});

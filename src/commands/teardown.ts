import { defineCommand } from "citty";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { changeArgs, commonArgs } from "./shared-args.js";
import { buildContext, requireConsent, setFailed } from "./context.js";
import { loadStack } from "./load-stack.js";

export default defineCommand({
  meta: { name: "teardown", description: "Remove every resource of the server stack, in reverse dependency order" },
  args: {
    ...commonArgs,
    ...changeArgs,
    "skip-final-snapshot": { type: "boolean", description: "Delete the database without a final snapshot (data is lost)" },
    "keep-volumes": { type: "boolean", description: "local provider: keep the database's data volume (a later stack of the same name reuses it)" },
  },
  async run({ args }) {
    const ctx = buildContext("teardown", args);
    const { state, provider } = await loadStack(ctx);
    try {
      const keys = Object.keys(state.resources);
      const listing = keys.map((k) => `  - ${k}  ${state.resources[k].type}  ${state.resources[k].id ?? "(interrupted create)"}`);
      if (args["dry-run"]) {
        ctx.ui.result(
          { ok: true, dryRun: true, plan: keys.map((k) => ({ key: k, type: state.resources[k].type, action: "delete", id: state.resources[k].id })) },
          [`Would delete ${keys.length} resource(s) of stack "${ctx.stack}":`, ...listing, "Dry run: nothing was changed."],
        );
        return;
      }
      const volumes = state.provider === "local" && !args["keep-volumes"] ? ", including the database's data volume (--keep-volumes keeps it)" : "";
      await requireConsent(ctx, args.yes, `Delete all ${keys.length} resources of stack "${ctx.stack}" (${state.provider})${volumes}?`);
      const lock = ctx.store.lock("teardown");
      try {
        const fresh = ctx.store.load()!;
        const settings = {
          ...fresh.settings,
          skipFinalSnapshot: Boolean(args["skip-final-snapshot"]),
          keepVolumes: Boolean(args["keep-volumes"]),
        };
        const kinds = provider.kinds(settings);
        const { removeLocalServer } = await import("./bootstrap-stack.js");
        await removeLocalServer(ctx, provider, fresh);
        const { destroyEntries } = await import("../engine/destroy.js");
        const result = await destroyEntries(Object.keys(fresh.resources), {
          store: ctx.store,
          stack: ctx.stack,
          emit: ctx.ui.emit.bind(ctx.ui),
          kinds,
          // The graph lets teardown find a half-made resource that is known by name, not tag (IAM, DB subnet group).
          nodes: provider.graph(settings, fresh),
          isRetryableDelete: (e) => provider.isRetryableDelete(e),
        });
        if (result.failed.length > 0) {
          setFailed();
          ctx.ui.result(
            { ok: false, deleted: result.done, failed: result.failed.map((f) => ({ key: f.key, error: (f.error as Error).message })), remaining: Object.keys(ctx.store.current!.resources) },
            [`${result.failed.length} resource(s) could not be deleted; state keeps what remains. Run \`pilot teardown --name ${ctx.stack}\` again.`],
          );
          return;
        }
        // Everything is gone: the stack's keys, CA and state go too, so a new stack starts clean,
        // and so does the Waypoint CLI context that pointed at it.
        lock.release();
        rmSync(ctx.stackDir, { recursive: true, force: true });
        const { waypointConfigDir } = await import("../bootstrap/waypoint-context.js");
        rmSync(join(waypointConfigDir(ctx.env), "context", `pilot-${ctx.stack}.hcl`), { force: true });
        ctx.ui.result({ ok: true, deleted: result.done }, [`Stack "${ctx.stack}" is gone (${result.done.length} resources deleted).`]);
      } finally {
        lock.release();
      }
    } finally {
      provider.close?.();
      ctx.ui.close();
    }
  },
});

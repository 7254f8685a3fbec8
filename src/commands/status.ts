import { defineCommand } from "citty";
import { commonArgs } from "./shared-args.js";
import { buildContext, setFailed } from "./context.js";
import { loadStack } from "./load-stack.js";
import type { CommandContext } from "./context.js";
import type { Provider } from "../providers/types.js";
import type { StackState } from "../state/schema.js";

/** A resource tagged for the stack that state does not track, as status reports it. */
interface Untracked {
  type: string;
  id: string;
  lineage?: string;
  key?: string;
}

/**
 * What carries the stack's tags but is not in its state (the same scan as
 * `teardown --orphans`): undefined when the provider cannot scan or the scan
 * failed (said as a warning: status still reports the stack itself).
 */
async function untrackedOf(ctx: CommandContext, provider: Provider<any>, state: StackState): Promise<Untracked[] | undefined> {
  if (!provider.findTagged) return undefined;
  try {
    const { orphansOf } = await import("../engine/orphans.js");
    const found = await provider.findTagged(state.settings, state);
    const keyOf = new Map(found.map((f) => [`${f.type} ${f.id}`, f.key]));
    return orphansOf(found, state).map((o) => ({ type: o.type, id: o.id, lineage: o.lineage, key: keyOf.get(`${o.type} ${o.id}`) }));
  } catch (err) {
    ctx.ui.warn(`Could not look for resources of stack "${ctx.stack}" that its state does not track: ${(err as Error).message}`);
    return undefined;
  }
}

export default defineCommand({
  meta: { name: "status", description: "Show the stack's resources, their drift, and server and runner health" },
  args: { ...commonArgs },
  async run({ args }) {
    const ctx = buildContext("status", args);
    const { state, provider } = await loadStack(ctx);
    try {
      const settings = state.settings;
      const { refresh } = await import("../engine/refresh.js");
      const { plan } = await import("../engine/plan.js");
      const nodes = provider.graph(settings, state);
      // Read-only: refresh and plan never write state, so status needs no lock.
      const quiet = () => undefined;
      const observed = await refresh(nodes, state, provider.kinds(settings), { stack: ctx.stack, emit: quiet });
      const changes = plan({ nodes, resources: state.resources, observed });
      const drift = changes.filter((c) => c.action !== "keep");
      const resources = changes.map((c) => ({ key: c.key, type: c.type, id: c.id, status: c.action === "keep" ? "ok" : "drift", detail: c.reason }));
      const untracked = await untrackedOf(ctx, provider, state);
      const { serverHealthFor } = await import("./bootstrap-stack.js");
      const health = await serverHealthFor(ctx, provider, state);
      // Untracked resources cost money but do not break the stack: they are listed and warned about, not failed on.
      if (drift.length > 0 || (health && !health.ok)) setFailed();
      const w = Math.max(...resources.map((r) => r.key.length), 3);
      ctx.ui.result(
        {
          ok: drift.length === 0 && (!health || health.ok),
          provider: state.provider,
          serial: state.serial,
          resources,
          untracked: untracked ?? null,
          server: health ?? null,
        },
        [
          `Stack "${ctx.stack}" (${state.provider}, ${resources.length} resources, ${drift.length ? `${drift.length} drifted` : "no drift"}):`,
          ...resources.map((r) => `  ${r.status === "ok" ? "✓" : "!"} ${r.key.padEnd(w)}  ${r.id ?? "-"}  ${r.status === "ok" ? "" : r.detail}`.trimEnd()),
          ...(untracked?.length
            ? [
                `Tagged for stack "${ctx.stack}" but not tracked by its state (${untracked.length}):`,
                ...untracked.map((u) => `  ? ${u.type}  ${u.id}  (${u.lineage === state.lineage ? "this stack's lineage" : u.lineage ? `lineage ${u.lineage}` : "no lineage tag"}${u.key ? `, node ${u.key}` : ""})`),
              ]
            : []),
          ...(health ? health.lines : ["Server: not bootstrapped yet."]),
          ...(drift.length ? [`Run \`pilot up-server --name ${ctx.stack}\` to repair the drift.`] : []),
        ],
      );
      if (untracked?.length) {
        ctx.ui.warn(
          `${untracked.length} resource(s) carry the tags of stack "${ctx.stack}" but its state does not track them (a create retried after a lost answer, ` +
            `an earlier lineage): they may still be billed. Delete them in the cloud console, or \`pilot teardown --orphans --name ${ctx.stack}\` removes them with the stack.`,
        );
      }
    } finally {
      provider.close?.();
      ctx.ui.close();
    }
  },
});

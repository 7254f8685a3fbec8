import { defineCommand } from "citty";
import { commonArgs } from "./shared-args.js";
import { buildContext, setFailed } from "./context.js";
import { loadStack } from "./load-stack.js";

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
      const { serverHealthFor } = await import("./bootstrap-stack.js");
      const health = await serverHealthFor(ctx, provider, state);
      if (drift.length > 0 || (health && !health.ok)) setFailed();
      const w = Math.max(...resources.map((r) => r.key.length), 3);
      ctx.ui.result(
        { ok: drift.length === 0 && (!health || health.ok), provider: state.provider, serial: state.serial, resources, server: health ?? null },
        [
          `Stack "${ctx.stack}" (${state.provider}, ${resources.length} resources, ${drift.length ? `${drift.length} drifted` : "no drift"}):`,
          ...resources.map((r) => `  ${r.status === "ok" ? "✓" : "!"} ${r.key.padEnd(w)}  ${r.id ?? "-"}  ${r.status === "ok" ? "" : r.detail}`.trimEnd()),
          ...(health ? health.lines : ["Server: not bootstrapped yet."]),
          ...(drift.length ? [`Run \`pilot up-server --name ${ctx.stack}\` to repair the drift.`] : []),
        ],
      );
    } finally {
      provider.close?.();
      ctx.ui.close();
    }
  },
});

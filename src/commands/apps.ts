/**
 * `pilot apps`: the stack's projects and apps, with each app's last
 * deployment as the Waypoint server reports it.
 */
import { defineCommand } from "citty";
import { buildContext } from "./context.js";
import { loadStack } from "./load-stack.js";
import { commonArgs } from "./shared-args.js";

interface Deployment {
  sequence?: number;
  status?: { state?: string; complete_time?: string; completeTime?: string };
  latestStatusReport?: { health?: { healthStatus?: string } };
}

export default defineCommand({
  meta: { name: "apps", description: "List the stack's projects and apps, with their last deployment" },
  args: { ...commonArgs },
  async run({ args }) {
    const ctx = buildContext("apps", args);
    try {
      const { state, provider } = await loadStack(ctx);
      const { openServerSession } = await import("../apps/server-session.js");
      const session = await openServerSession(ctx, state, provider);
      try {
        const apps = [];
        for (const [key, a] of Object.entries(state.apps ?? {}).sort(([x], [y]) => x.localeCompare(y))) {
          const r = await session.waypoint(["deployment", "list", "-json", `-project=${a.project}`, `-app=${a.app}`]);
          let last: Deployment | undefined;
          if (r.code === 0 && r.stdout.trim().startsWith("[")) {
            const list = JSON.parse(r.stdout) as Deployment[];
            last = list.reduce<Deployment | undefined>((best, d) => ((d.sequence ?? 0) > (best?.sequence ?? -1) ? d : best), undefined);
          }
          apps.push({
            app: key,
            target: a.target,
            lastDeployment: last
              ? { sequence: last.sequence ?? null, state: last.status?.state ?? null, health: last.latestStatusReport?.health?.healthStatus ?? null, completed: last.status?.complete_time ?? last.status?.completeTime ?? null }
              : null,
          });
        }
        const projects = Object.entries(state.projects ?? {}).map(([name, p]) => ({ project: name, gitUrl: p.gitUrl, gitRef: p.gitRef, gitPath: p.gitPath ?? null }));
        ctx.ui.result({ ok: true, projects, apps }, [
          ...(projects.length ? projects.map((p) => `project ${p.project}: ${p.gitUrl} at ${p.gitRef}${p.gitPath ? ` (${p.gitPath})` : ""}`) : ["No projects yet (`pilot new project`)."]),
          ...apps.map((a) =>
            `  ${a.app} (${a.target}): ${a.lastDeployment ? `deployment v${a.lastDeployment.sequence} ${String(a.lastDeployment.state).toLowerCase()}${a.lastDeployment.health ? `, ${String(a.lastDeployment.health).toLowerCase()}` : ""}` : "never deployed"}`,
          ),
        ]);
      } finally {
        await session.close();
        provider.close?.();
      }
    } finally {
      ctx.ui.close();
    }
  },
});

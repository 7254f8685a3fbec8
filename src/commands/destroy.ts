/**
 * `pilot destroy PROJECT/APP`: removes the app's deployments and releases
 * (`waypoint destroy`, run on the server's runner), then what Waypoint
 * leaves behind for an app beside the server (its image, scratch volume and
 * any container) or, for ECS, its database variables in SSM Parameter Store,
 * for Cloud Run, its variables in Secret Manager, and with --repository the
 * app's own ECR repository. The app's waypoint.hcl and its environment (the
 * server's configuration, or for ECS the parameters `pilot env set` wrote)
 * stay: `pilot up` brings it all back.
 */
import { defineCommand } from "citty";
import { PilotError } from "../errors.js";
import { runWatchedJob, watchTiming } from "../apps/job-watch.js";
import { appRecord, parseAppRef } from "../apps/app-ref.js";
import { appParameterPath } from "../providers/aws/app-names.js";
import { appSecretPrefix } from "../providers/gcp/cloud-run-spec.js";
import { DATABASE_VARIABLE_NAMES } from "../providers/database-url.js";
import { buildContext, requireConsent } from "./context.js";
import { loadStack } from "./load-stack.js";
import { changeArgs, commonArgs } from "./shared-args.js";

export default defineCommand({
  meta: { name: "destroy", description: "Remove an app's deployments and releases, and what Pilot made for it" },
  args: {
    ...commonArgs,
    ...changeArgs,
    app: { type: "positional", required: false, description: "The app, as PROJECT/APP", valueHint: "PROJECT/APP" },
    repository: { type: "boolean", description: "Also delete the app's ECR repository and its images" },
  },
  async run({ args }) {
    const ref = parseAppRef(args.app, "destroy");
    const ctx = buildContext("destroy", args);
    try {
      const timing = watchTiming(ctx.env); // a bad setting fails before anything is touched
      const { state, provider } = await loadStack(ctx);
      try {
        const record = appRecord(state, ref);
        if (args.repository && record?.repository?.kind !== "ecr") {
          throw new PilotError(`${ref.key} has no repository of its own to delete.`, {
            hint: record?.repository ? "Cloud Run apps share the stack's Artifact Registry repository; `pilot teardown` removes it." : undefined,
          });
        }
        // An ECS app's database variables in SSM (`pilot up` writes them again on the next deploy);
        // what `pilot env set` wrote stays, as the server's configuration does for other apps.
        const parameters = record?.target === "ecs";
        // A Cloud Run app's variables in Secret Manager (`pilot up` writes them again).
        const secrets = record?.target === "cloud-run";
        const what = [
          `${ref.key}'s deployments and releases`,
          ...(parameters ? [`its database's SSM parameters under ${appParameterPath(ctx.stack, ref.project, ref.app)}`] : []),
          ...(secrets ? [`its secrets in Secret Manager (${appSecretPrefix(ctx.stack, ref.project, ref.app)}*)`] : []),
          ...(args.repository ? [`its ECR repository ${record!.repository!.id} with every image`] : []),
        ];
        if (args["dry-run"]) {
          ctx.ui.result({ ok: true, dryRun: true, app: ref.key, wouldRemove: what }, [`Would remove ${what.join(" and ")}.`]);
          return;
        }
        await requireConsent(ctx, args.yes, `Remove ${what.join(" and ")}?`);
        const { openServerSession, expectOk } = await import("../apps/server-session.js");
        const session = await openServerSession(ctx, state, provider);
        const removed: string[] = [];
        try {
          const emit = ctx.ui.emit.bind(ctx.ui);
          emit({ type: "start", key: "destroy:waypoint", action: "delete" });
          const args = ["destroy", `-project=${ref.project}`, `-app=${ref.app}`, "-local=false", "-auto-approve", "-plain"];
          expectOk(
            await runWatchedJob(session, args, { project: ref.project, app: ref.app, operation: "destroy" }, {
              onOutput: (chunk) => chunk.split("\n").forEach((l) => l.trim() && emit({ type: "log", level: "info", message: `  ${l.trimEnd()}` })),
              warn: (message) => emit({ type: "log", level: "warn", message }),
              timing,
            }),
            `\`waypoint destroy\` of ${ref.key}`,
          );
          emit({ type: "done", key: "destroy:waypoint", action: "delete" });
          removed.push("deployments and releases");
          if (!record || record.target === "docker") {
            const { removeAppLeftovers } = await import("../apps/docker-target.js");
            // Waypoint names the image and scratch volume by app alone: keep them while another project's app of that name exists.
            const shared = Object.values(ctx.store.load()?.apps ?? {}).some((a) => a.app === ref.app && a.project !== ref.project);
            removed.push(...(await removeAppLeftovers(session, ref.key, ref.app, shared)));
          }
        } finally {
          await session.close();
        }
        if (parameters) {
          const { createSsmClient, deleteAppParameters } = await import("../providers/aws/app-parameters.js");
          const region = String(state.settings.region);
          const ssm = createSsmClient(region);
          try {
            const deleted = await deleteAppParameters(ssm, { region, stack: ctx.stack, project: ref.project, app: ref.app }, DATABASE_VARIABLE_NAMES);
            if (deleted.length > 0) removed.push(`${deleted.length} database SSM parameters`);
          } finally {
            ssm.destroy();
          }
        }
        if (secrets) {
          const { deleteAppSecretsOf } = await import("../apps/cloud-run-up.js");
          const settings = state.settings;
          const deleted = await deleteAppSecretsOf(ctx.env, { project: String(settings.project), region: String(settings.region), stack: ctx.stack, stackId: state.lineage, ref });
          if (deleted.length > 0) removed.push(`${deleted.length} Secret Manager secrets`);
        }
        if (args.repository) {
          const repo = record!.repository!;
          const { deleteRepository } = await import("../apps/repositories.js");
          await deleteRepository(repo, { env: ctx.env });
          const lock = ctx.store.lock("destroy");
          try {
            await ctx.store.update((s) => {
              const a = s.apps?.[ref.key];
              if (a) delete a.repository;
            });
          } finally {
            lock.release();
          }
          removed.push(`ECR repository ${repo.id}`);
        }
        ctx.ui.result({ ok: true, app: ref.key, removed }, [`Removed ${ref.key}: ${removed.join(", ")}.`, `Its waypoint.hcl and configuration stay; \`pilot up ${ref.key}\` deploys it again.`]);
      } finally {
        provider.close?.();
      }
    } finally {
      ctx.ui.close();
    }
  },
});

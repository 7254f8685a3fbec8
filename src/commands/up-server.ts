import { defineCommand } from "citty";
import { UsageError } from "../errors.js";
import { changeArgs, commonArgs, repeatedFlag } from "./shared-args.js";
import { buildContext, requireConsent, setFailed } from "./context.js";

export default defineCommand({
  meta: {
    name: "up-server",
    alias: "setup",
    description: "Create or reconcile the Pilot server stack (VM, database, network), then bootstrap the server",
  },
  args: {
    ...commonArgs,
    ...changeArgs,
    provider: { type: "string", description: "aws, gcp or local (default: the stack's provider)", valueHint: "NAME" },
    region: { type: "string", description: "Cloud region (default: from the AWS config chain)" },
    "allow-cidr": { type: "string", description: "CIDR allowed to reach SSH and Waypoint; repeatable (default: your public address /32)" },
    "allow-world": { type: "boolean", description: "Permit 0.0.0.0/0 in --allow-cidr (not recommended)" },
    "instance-type": { type: "string", description: "Server VM size (AWS default t3.small)" },
    "db-instance-class": { type: "string", description: "Database size (AWS default db.t4g.micro)" },
    ami: { type: "string", description: "Server image id (default: the latest Ubuntu 24.04 LTS, looked up at run time)" },
    "waypoint-image": { type: "string", description: "Waypoint server/runner image (default hashicorp/waypoint:0.11.4)" },
    "postgres-image": { type: "string", description: "PostgreSQL image for --provider local" },
    "skip-bootstrap": { type: "boolean", description: "Create the infrastructure only; do not configure the server over SSH" },
    "accept-new-host-key": { type: "boolean", description: "Trust a changed SSH host key once (after you rebuilt the server yourself)" },
  },
  async run({ args, rawArgs }) {
    const ctx = buildContext("up-server", args);
    const { loadProvider } = await import("../providers/index.js");
    const { reconcile } = await import("../engine/reconcile.js");

    const stored = ctx.store.load();
    const providerName = args.provider ?? stored?.provider;
    if (!providerName) {
      throw new UsageError("No provider given for a new stack.", "Pass --provider aws, --provider gcp or --provider local.");
    }
    if (stored && args.provider && args.provider !== stored.provider) {
      throw new UsageError(
        `Stack "${ctx.stack}" was created with --provider ${stored.provider}, not ${args.provider}.`,
        `Use another --name for a second stack, or run \`pilot teardown --name ${ctx.stack}\` first.`,
      );
    }
    if (providerName !== "local" && args["postgres-image"] !== undefined) {
      throw new UsageError("--postgres-image applies to --provider local only.", "On AWS the database is RDS; drop the flag.");
    }
    const emit = ctx.ui.emit.bind(ctx.ui);
    const provider = await loadProvider(providerName, { stack: ctx.stack, stackDir: ctx.stackDir, env: ctx.env, emit });
    try {
      // Validate every flag before touching anything: bad input creates nothing.
      const providerSettings = await provider.resolveSettings(
        {
          region: args.region,
          allowCidr: repeatedFlag(rawArgs, "allow-cidr"),
          allowWorld: args["allow-world"],
          instanceType: args["instance-type"],
          dbInstanceClass: args["db-instance-class"],
          ami: args.ami,
          postgresImage: args["postgres-image"],
        },
        stored?.settings as never,
      );
      // The server image is the bootstrap's business, the same on every provider.
      const { checkWaypointImage } = await import("./bootstrap-stack.js");
      // Unset means the bootstrap's default image (src/bootstrap), decided when it runs.
      const chosenImage = args["waypoint-image"] ?? (stored?.settings.waypointImage as string | undefined);
      const waypointImage = chosenImage === undefined ? undefined : checkWaypointImage(chosenImage);
      const settings = waypointImage ? { ...providerSettings, waypointImage } : providerSettings;
      const lock = ctx.store.lock("up-server");
      if (lock.reclaimed) ctx.ui.warn(`Took over a lock left by pid ${lock.reclaimed.pid}, which is no longer running.`);
      try {
        const identity = await provider.checkCredentials(settings);
        ctx.ui.info(`Acting as ${identity}.`);
        // Re-read under the lock: another run may have finished in between.
        const state = ctx.store.load() ?? ctx.store.init(provider.name, settings);
        state.settings = { ...settings };
        ctx.ui.addSecrets(Object.values(state.secrets));
        if (!args["dry-run"]) {
          await provider.prepare(settings, ctx.store);
          ctx.ui.addSecrets(Object.values(state.secrets));
        }
        const result = await reconcile(provider, settings, ctx.store, {
          stack: ctx.stack,
          emit,
          dryRun: args["dry-run"],
          beforeApply: async (changes) => {
            const destructive = changes.filter((c) => c.action === "replace" || c.action === "delete");
            if (destructive.length > 0) {
              await requireConsent(ctx, args.yes, `Replace or delete ${destructive.map((c) => c.key).join(", ")}?`);
            }
          },
        });
        if (args["dry-run"]) {
          // The bootstrap is not previewed: even its checks would pin a host key and make a CA.
          ctx.ui.result({ ok: true, dryRun: true, plan: result.changes }, ["Dry run: nothing was changed (the server bootstrap runs its checks on apply)."]);
          return;
        }
        const failed = result.applied!.failed;
        if (failed.length > 0) {
          setFailed();
          ctx.ui.result(
            { ok: false, plan: result.changes, failed: failed.map((f) => ({ key: f.key, error: String((f.error as Error).message ?? f.error) })), skipped: result.applied!.skipped },
            [`${failed.length} resource(s) failed; run \`pilot up-server --name ${ctx.stack}\` again to retry (completed resources are kept).`],
          );
          return;
        }
        const summary: string[] = [`Stack "${ctx.stack}" is up to date (${Object.keys(ctx.store.current!.resources).length} resources).`];
        if (!args["skip-bootstrap"]) {
          const { bootstrapStack } = await import("./bootstrap-stack.js");
          summary.push(...(await bootstrapStack(ctx, provider, settings, { acceptNewHostKey: args["accept-new-host-key"] })));
        } else {
          summary.push("Bootstrap skipped (--skip-bootstrap).");
        }
        ctx.ui.result({ ok: true, plan: result.changes, resources: resourceSummary(ctx.store.current!.resources) }, summary);
      } finally {
        lock.release();
      }
    } finally {
      provider.close?.();
      ctx.ui.close();
    }
  },
});

/** The ids of every tracked resource, for --json. */
export function resourceSummary(resources: Record<string, { type: string; id?: string; status: string }>) {
  return Object.fromEntries(Object.entries(resources).map(([k, r]) => [k, { type: r.type, id: r.id, status: r.status }]));
}


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
    region: { type: "string", description: "Cloud region (default: AWS's config chain; GCP's CLOUDSDK_COMPUTE_REGION)" },
    project: { type: "string", description: "GCP project (default: GOOGLE_CLOUD_PROJECT, CLOUDSDK_CORE_PROJECT, then your credentials' project)" },
    zone: { type: "string", description: "GCP zone for the server VM (default: <region>-b)" },
    "enable-apis": { type: "boolean", description: "GCP: enable the Google APIs Pilot needs that are disabled, instead of stopping" },
    "allow-cidr": { type: "string", description: "CIDR allowed to reach SSH and Waypoint; repeatable (default: your public address /32)" },
    "allow-world": { type: "boolean", description: "Permit 0.0.0.0/0 in --allow-cidr (not recommended)" },
    "public-apps": { type: "boolean", description: "AWS: let anyone reach the ECS apps' load balancers on HTTP (default: the --allow-cidr ranges only)" },
    "instance-type": { type: "string", description: "Server VM size (AWS default t3.small, GCP machine type e2-small)" },
    "db-instance-class": { type: "string", description: "Database size (AWS default db.t4g.micro, GCP Cloud SQL tier db-g1-small)" },
    ami: { type: "string", description: "Server image id (default: the latest Ubuntu 24.04 LTS, looked up at run time)" },
    "waypoint-image": { type: "string", description: "Waypoint server/runner image (default hashicorp/waypoint:0.11.4)" },
    "postgres-image": { type: "string", description: "PostgreSQL image for --provider local" },
    "grpc-port": { type: "string", description: "--provider local: host port for Waypoint's gRPC API, on 127.0.0.1 (default 9701; kept for later runs)", valueHint: "PORT" },
    "http-port": { type: "string", description: "--provider local: host port for Waypoint's UI/HTTPS, on 127.0.0.1 (default 9702; kept for later runs)", valueHint: "PORT" },
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
    checkProviderFlags(providerName, args);
    const emit = ctx.ui.emit.bind(ctx.ui);
    const provider = await loadProvider(providerName, { stack: ctx.stack, stackDir: ctx.stackDir, env: ctx.env, emit });
    try {
      // Validate every flag before touching anything: bad input creates nothing.
      const providerSettings = await provider.resolveSettings(
        {
          region: args.region,
          project: args.project,
          zone: args.zone,
          enableApis: args["enable-apis"],
          dryRun: args["dry-run"],
          allowCidr: repeatedFlag(rawArgs, "allow-cidr"),
          allowWorld: args["allow-world"],
          publicApps: args["public-apps"],
          instanceType: args["instance-type"],
          dbInstanceClass: args["db-instance-class"],
          ami: args.ami,
          postgresImage: args["postgres-image"],
          grpcPort: args["grpc-port"],
          httpPort: args["http-port"],
        },
        stored?.settings as never,
      );
      // The server image is the bootstrap's business, the same on every provider.
      const { checkWaypointImage } = await import("./bootstrap-stack.js");
      // Unset means the bootstrap's default image (src/bootstrap), decided when it runs.
      const chosenImage = args["waypoint-image"] ?? (stored?.settings.waypointImage as string | undefined);
      const waypointImage = chosenImage === undefined ? undefined : checkWaypointImage(chosenImage);
      const settings = waypointImage ? { ...providerSettings, waypointImage } : providerSettings;
      // Before the lock and the state file: a busy port or a taken name creates nothing, not even the stack's folder.
      await provider.preflight?.(settings, stored ?? undefined);
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
            // One question for everything that destroys or interrupts a resource.
            const destructive = changes.filter((c) => c.action === "replace" || c.action === "delete");
            const disruptive = changes.filter((c) => c.action === "update" && c.disruptive);
            const asks = [
              ...(destructive.length > 0 ? [`Replace or delete ${destructive.map((c) => c.key).join(", ")}`] : []),
              ...(disruptive.length > 0 ? [`Update ${disruptive.map((c) => `${c.key} (${c.reason})`).join(", ")}, with downtime`] : []),
            ];
            if (asks.length > 0) await requireConsent(ctx, args.yes, `${asks.join("; ")}?`);
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

/** Flags that mean something on one provider only; given to another, they are a mistake worth stopping for. */
const PROVIDER_ONLY_FLAGS: Record<string, { provider: string; elsewhere: string }> = {
  "postgres-image": { provider: "local", elsewhere: "In the cloud the database is RDS or Cloud SQL; drop the flag." },
  "grpc-port": { provider: "local", elsewhere: "A cloud server has its own address, where Waypoint listens on 9701/9702; drop the flag." },
  "http-port": { provider: "local", elsewhere: "A cloud server has its own address, where Waypoint listens on 9701/9702; drop the flag." },
  ami: { provider: "aws", elsewhere: "Drop the flag: GCP servers run the newest Ubuntu 24.04 LTS image, local ones your Docker engine." },
  project: { provider: "gcp", elsewhere: "Drop the flag: AWS takes its account from your credentials." },
  zone: { provider: "gcp", elsewhere: "Drop the flag: on AWS Pilot picks the zones of --region." },
  "enable-apis": { provider: "gcp", elsewhere: "Drop the flag: it enables Google APIs." },
  "public-apps": { provider: "aws", elsewhere: "Drop the flag: it opens the load balancers of ECS apps; `pilot new app --public` makes a Cloud Run app public." },
};

/** Refuses a provider-specific flag given for another provider (nothing is touched yet). */
export function checkProviderFlags(provider: string, args: Record<string, unknown>): void {
  for (const [flag, only] of Object.entries(PROVIDER_ONLY_FLAGS)) {
    if (args[flag] !== undefined && provider !== only.provider) {
      throw new UsageError(`--${flag} applies to --provider ${only.provider} only.`, only.elsewhere);
    }
  }
}

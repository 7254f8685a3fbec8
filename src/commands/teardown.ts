import { defineCommand } from "citty";
import { existsSync, readdirSync, rmdirSync, rmSync } from "node:fs";
import { PilotError, UsageError } from "../errors.js";
import { OrphanOverlay, orphansOf, type Orphan } from "../engine/orphans.js";
import type { Provider } from "../providers/types.js";
import { STATE_VERSION, type StackState } from "../state/schema.js";
import type { StateStore } from "../state/store.js";
import { changeArgs, commonArgs } from "./shared-args.js";
import { buildContext, requireConsent, setFailed, type CommandContext } from "./context.js";
import { loadStack } from "./load-stack.js";

export default defineCommand({
  meta: { name: "teardown", description: "Remove every resource of the server stack, in reverse dependency order" },
  args: {
    ...commonArgs,
    ...changeArgs,
    "skip-final-snapshot": { type: "boolean", description: "Delete the database without a final snapshot (data is lost)" },
    "keep-volumes": { type: "boolean", description: "local provider: keep the database's data volume (a later stack of the same name reuses it)" },
    orphans: { type: "boolean", description: "Also delete resources tagged for this stack that its state does not track (e.g. after a lost state file)" },
    provider: { type: "string", description: "With --orphans when the stack has no state file: aws, gcp or local", valueHint: "NAME" },
    region: { type: "string", description: "With --orphans when the stack has no state file: the region to search" },
    project: { type: "string", description: "With --orphans when the stack has no state file: the GCP project to search" },
    zone: { type: "string", description: "With --orphans when the stack has no state file: the GCP zone of the server (default <region>-b)" },
  },
  async run({ args }) {
    const ctx = buildContext("teardown", args);
    if (!args.orphans && [args.provider, args.region, args.project, args.zone].some((v) => v !== undefined)) {
      ctx.ui.close();
      throw new UsageError("--provider, --region, --project and --zone only apply to `pilot teardown --orphans`.", "A stack's state already says where it lives.");
    }
    const { state, provider } = args.orphans ? await loadForOrphans(ctx, args.provider, args.region) : await loadStack(ctx);
    try {
      if (args.orphans) {
        await teardownWithOrphans(ctx, provider, state, args);
        return;
      }
      const keys = Object.keys(state!.resources);
      const listing = keys.map((k) => `  - ${k}  ${state!.resources[k].type}  ${state!.resources[k].id ?? "(interrupted create)"}`);
      if (args["dry-run"]) {
        ctx.ui.result(
          { ok: true, dryRun: true, plan: keys.map((k) => ({ key: k, type: state!.resources[k].type, action: "delete", id: state!.resources[k].id })) },
          [`Would delete ${keys.length} resource(s) of stack "${ctx.stack}":`, ...listing, "Dry run: nothing was changed."],
        );
        return;
      }
      const volumes = state!.provider === "local" && !args["keep-volumes"] ? ", including the database's data volume (--keep-volumes keeps it)" : "";
      await requireConsent(ctx, args.yes, `Delete all ${keys.length} resources of stack "${ctx.stack}" (${state!.provider})${volumes}?`);
      const lock = ctx.store.lock("teardown");
      try {
        const fresh = ctx.store.load()!;
        const settings = teardownSettings(fresh.settings, args);
        const result = await destroy(ctx, provider, settings, fresh, ctx.store, Object.keys(fresh.resources), false);
        if (result.failed.length > 0) {
          reportFailure(ctx, result, `pilot teardown --name ${ctx.stack}`);
          return;
        }
        lock.release();
        await forgetStack(ctx);
        ctx.ui.result({ ok: true, deleted: result.done, appResources: result.appResources }, [
          `Stack "${ctx.stack}" is gone (${result.done.length} resources deleted${appResourcesText(result.appResources)}).`,
          // Finding them costs a scan of the account; say how instead of scanning every teardown.
          `Resources tagged for "${ctx.stack}" that its state did not track (e.g. from a lost state file) were not looked for; ` +
            `\`pilot teardown --orphans --name ${ctx.stack} ${whereFlags(fresh.provider, fresh.settings)}\` finds and removes them.`,
        ]);
      } finally {
        lock.release();
      }
    } finally {
      provider.close?.();
      ctx.ui.close();
    }
  },
});

type TeardownArgs = { yes?: boolean; "dry-run"?: boolean; "skip-final-snapshot"?: boolean; "keep-volumes"?: boolean; region?: string; project?: string; zone?: string };

/** Stored settings plus this run's teardown-only choices. */
function teardownSettings(stored: Record<string, unknown>, args: TeardownArgs): Record<string, unknown> {
  return { ...stored, skipFinalSnapshot: Boolean(args["skip-final-snapshot"]), keepVolumes: Boolean(args["keep-volumes"]) };
}

/** `--provider aws --region eu-west-1`: the flags that find a stack with no state file. */
function whereFlags(provider: string, settings: Record<string, unknown>): string {
  const project = typeof settings.project === "string" ? ` --project ${settings.project}` : "";
  return `--provider ${provider}${typeof settings.region === "string" ? ` --region ${settings.region}` : ""}${project}`;
}

/**
 * The stack's provider for --orphans: from state when there is one (the flags
 * must then agree with it), else from --provider, since a lost state file is
 * the main reason to look for orphans.
 */
async function loadForOrphans(
  ctx: CommandContext,
  providerFlag: string | undefined,
  regionFlag: string | undefined,
): Promise<{ state: StackState | undefined; provider: Provider<any> }> {
  if (ctx.store.exists()) {
    const loaded = await loadStack(ctx);
    if (providerFlag !== undefined && providerFlag !== loaded.state.provider) {
      loaded.provider.close?.();
      throw new UsageError(`Stack "${ctx.stack}" was created with --provider ${loaded.state.provider}, not ${providerFlag}.`);
    }
    if (regionFlag !== undefined && regionFlag !== loaded.state.settings.region) {
      loaded.provider.close?.();
      throw new UsageError(
        `Stack "${ctx.stack}" lives in ${String(loaded.state.settings.region ?? "no region")}, not ${regionFlag}.`,
        "Use another --name to look for the orphans of a stack in another region.",
      );
    }
    return loaded;
  }
  if (!providerFlag) {
    throw new UsageError(
      `Stack "${ctx.stack}" has no state file (${ctx.store.file}), so Pilot cannot tell where to look for its resources.`,
      `Pass --provider aws|gcp --region REGION (and --project on GCP), or --provider local: \`pilot teardown --orphans --name ${ctx.stack} --provider aws --region eu-west-1\`.`,
    );
  }
  const { loadProvider } = await import("../providers/index.js");
  const provider = await loadProvider(providerFlag, { stack: ctx.stack, stackDir: ctx.stackDir, env: ctx.env, emit: ctx.ui.emit.bind(ctx.ui) });
  return { state: undefined, provider };
}

/**
 * Removes what the stack's apps left outside the graph, the local server's Waypoint containers (named, not in
 * state), then the entries, through the engine. `anyLineage` (--orphans): app leftovers of a same-named stack
 * whose state is lost go too.
 */
async function destroy(ctx: CommandContext, provider: Provider<any>, settings: Record<string, unknown>, base: StackState, store: StateStore, keys: string[], anyLineage: boolean) {
  const kinds = provider.kinds(settings);
  // What Waypoint's aws-ecs plugin made for the apps (cluster, log group, execution roles) is outside the graph too.
  // It goes first: while an app's service is still deployed this stops before anything is deleted.
  const appResources: { type: string; id: string }[] = [];
  if (base.provider === "aws" && typeof settings.region === "string") {
    const { removeAppInfrastructure } = await import("../providers/aws/app-infrastructure.js");
    const removed = await removeAppInfrastructure({ stack: ctx.stack, region: settings.region, emit: ctx.ui.emit.bind(ctx.ui), apps: base.apps });
    appResources.push(...removed.map(({ type, id }) => ({ type, id })));
  }
  // The Cloud Run apps' variables in Secret Manager (`pilot up` writes them), found by label and name.
  if (base.provider === "gcp" && typeof settings.project === "string" && typeof settings.region === "string") {
    const { deleteStackAppSecrets } = await import("../apps/cloud-run-up.js");
    const progress = (message: string) => ctx.ui.emit({ type: "progress", key: "app-secrets", message });
    const deleted = await deleteStackAppSecrets(ctx.env, { project: settings.project, region: settings.region, stack: ctx.stack, stackId: anyLineage ? undefined : base.lineage, progress });
    appResources.push(...deleted.map((id) => ({ type: "gcp.secretmanager.secret", id })));
  }
  // The apps' image repositories (`pilot new app`) are outside the resource graph: they go first.
  const { deleteAppRepositories } = await import("../apps/repositories.js");
  await deleteAppRepositories(base, { env: ctx.env, progress: (message) => ctx.ui.emit({ type: "progress", key: "app-repositories", message }) });
  const { removeLocalServer } = await import("./bootstrap-stack.js");
  await removeLocalServer(ctx, provider, base);
  const { destroyEntries } = await import("../engine/destroy.js");
  const walked = await destroyEntries(keys, {
    store,
    stack: ctx.stack,
    emit: ctx.ui.emit.bind(ctx.ui),
    kinds,
    // The graph lets teardown find a half-made resource that is known by name, not tag (IAM, DB subnet group).
    nodes: ctx.store.current ? provider.graph(settings, ctx.store.current) : undefined,
    isRetryableDelete: (e) => provider.isRetryableDelete(e),
  });
  return { ...walked, appResources };
}

/** " and 3 its apps' deployments made (ECS cluster pilot-x, ...)" for the summary line; empty when there were none. */
function appResourcesText(removed: { type: string; id: string }[]): string {
  if (removed.length === 0) return "";
  const what = (r: { type: string; id: string }) =>
    `${{ "aws.ecs.cluster": "ECS cluster", "aws.logs.log-group": "log group", "aws.iam.role": "IAM role", "aws.ssm.parameters": "SSM parameters under", "gcp.secretmanager.secret": "Secret Manager secret" }[r.type] ?? r.type} ${r.id}`;
  return `, and ${removed.length} that its apps' deployments made: ${removed.map(what).join(", ")}`;
}

function reportFailure(
  ctx: CommandContext,
  result: { done: string[]; failed: { key: string; error: unknown }[] },
  again: string,
  extra: Record<string, unknown> = {},
) {
  const kept = ctx.store.current ? "state keeps what remains" : "a new run finds what remains by its tags";
  setFailed();
  ctx.ui.result(
    {
      ok: false,
      deleted: result.done,
      failed: result.failed.map((f) => ({ key: f.key, error: (f.error as Error).message })),
      remaining: Object.keys(ctx.store.current?.resources ?? {}),
      ...extra,
    },
    [`${result.failed.length} resource(s) could not be deleted; ${kept}. Run \`${again}\` again.`],
  );
}

/** Everything is gone: the stack's keys, CA and state go too, so a new stack starts clean, and so does its Waypoint CLI context. */
async function forgetStack(ctx: CommandContext): Promise<void> {
  rmSync(ctx.stackDir, { recursive: true, force: true });
  await forgetWaypointContext(ctx);
}

/** Removes the stack's Waypoint CLI context and, if it was the user's default, the default pointer (every provider). */
async function forgetWaypointContext(ctx: CommandContext): Promise<void> {
  const { removeWaypointContext } = await import("../bootstrap/waypoint-context.js");
  try {
    const { defaultUnset } = removeWaypointContext({ stack: ctx.stack, env: ctx.env });
    if (defaultUnset) {
      ctx.ui.info(`Your Waypoint CLI's default context was pilot-${ctx.stack}; it is unset now (\`waypoint context use NAME\` picks another).`);
    }
  } catch (err) {
    // The stack is gone by now; a config folder Pilot cannot read or write must not turn that into a failure.
    ctx.ui.warn(`Could not remove the Waypoint CLI context pilot-${ctx.stack}: ${(err as Error).message}.`);
  }
}

/** A lineage no real stack has: the stand-in state of a stack whose state file is lost. */
const NO_LINEAGE = "00000000-0000-0000-0000-000000000000";

/**
 * `pilot teardown --orphans`: the tracked resources plus everything tagged
 * for the stack that state does not track, deleted together by the engine (so
 * an orphan inside a tracked VPC goes before it). A real run holds the lock
 * from the scan on, so nothing the scan called an orphan is being created by
 * another run of this machine meanwhile.
 */
async function teardownWithOrphans(ctx: CommandContext, provider: Provider<any>, loaded: StackState | undefined, args: TeardownArgs): Promise<void> {
  if (!provider.findTagged) throw new UsageError(`--orphans is not supported by the ${provider.name} provider.`);
  const dryRun = Boolean(args["dry-run"]);
  const dirExisted = existsSync(ctx.stackDir);
  const lock = dryRun ? undefined : ctx.store.lock("teardown");
  if (lock?.reclaimed) ctx.ui.warn(`Took over a lock left by pid ${lock.reclaimed.pid}, which is no longer running.`);
  try {
    const state = dryRun ? loaded : ctx.store.load();
    if (Boolean(state) !== Boolean(loaded)) throw new PilotError(`The state of stack "${ctx.stack}" changed while teardown started.`, { hint: "Run the command again." });
    // Teardown creates nothing, so the allowed ranges are never used: the placeholder spares the AWS provider its public-address look-up.
    const settings = teardownSettings(state?.settings ?? (await provider.resolveSettings({ region: args.region, project: args.project, zone: args.zone }, { allowCidrs: ["127.0.0.1/32"] })), args);
    ctx.ui.info(`Looking for resources of stack "${ctx.stack}" as ${await provider.checkCredentials(settings)}${typeof settings.region === "string" ? ` in ${settings.region}` : ""}.`);
    const orphans = orphansOf(await provider.findTagged(settings, state), state);

    const base: StackState = state ?? {
      version: STATE_VERSION,
      lineage: NO_LINEAGE,
      serial: 0,
      provider: provider.name,
      settings,
      resources: {},
      secrets: {},
      server: {},
    };
    // On the local engine the bootstrap's containers and volumes are named, not tracked: teardown always removes them.
    const localServer = provider.serverAccess(base)?.via === "local";
    const tracked = Object.keys(state?.resources ?? {});
    const again = `pilot teardown --orphans --name ${ctx.stack}${state ? "" : ` ${whereFlags(provider.name, settings)}`}`;
    const mine = (o: Orphan) => (o.lineage === undefined ? "no lineage tag" : o.lineage === state?.lineage ? "this stack's lineage" : `lineage ${o.lineage}`);
    const listing = [
      ...(tracked.length ? [`Tracked by the state of stack "${ctx.stack}" (${tracked.length}):`] : []),
      ...tracked.map((k) => `  - ${k}  ${state!.resources[k].type}  ${state!.resources[k].id ?? "(interrupted create)"}`),
      `Tagged for stack "${ctx.stack}" but not in its state (${orphans.length}):`,
      ...(orphans.length ? orphans.map((o) => `  - ${o.type}  ${o.id}  (${mine(o)})`) : ["  (none)"]),
      ...(localServer ? [`And the Waypoint server and runner containers and volumes (pilot-${ctx.stack}-waypoint-*), where they exist.`] : []),
    ];
    const report = orphans.map((o) => ({ key: o.key, type: o.type, id: o.id, lineage: o.lineage, dependsOn: o.dependsOn }));
    if (dryRun) {
      ctx.ui.result(
        {
          ok: true,
          dryRun: true,
          plan: tracked.map((k) => ({ key: k, type: state!.resources[k].type, action: "delete", id: state!.resources[k].id })),
          orphans: report,
        },
        [`Would delete ${tracked.length + orphans.length} resource(s):`, ...listing, "Dry run: nothing was changed."],
      );
      return;
    }
    if (!state && orphans.length === 0 && !localServer) {
      ctx.ui.result({ ok: true, deleted: [], orphans: [] }, [`Nothing to delete: no resource is tagged for stack "${ctx.stack}"${typeof settings.region === "string" ? ` in ${settings.region}` : ""}.`]);
      return;
    }
    ctx.ui.info(listing.join("\n"));
    const volumes = provider.name === "local" && !args["keep-volumes"] ? ", including data volumes (--keep-volumes keeps them)" : "";
    await requireConsent(
      ctx,
      args.yes,
      `Delete ${tracked.length} tracked and ${orphans.length} orphaned resource(s) of stack "${ctx.stack}" (${provider.name})${volumes}?`,
    );
    const overlay = new OrphanOverlay(ctx.store, base, orphans);
    const result = await destroy(ctx, provider, settings, base, overlay, [...tracked, ...orphans.map((o) => o.key)], true);
    if (result.failed.length > 0) {
      reportFailure(ctx, result, again, { orphans: report });
      return;
    }
    lock!.release();
    if (state || result.done.length > 0) await forgetWaypointContext(ctx);
    // With state, the whole stack folder goes, as in any teardown; without, only what this run made (the lock's folder).
    if (state) rmSync(ctx.stackDir, { recursive: true, force: true });
    ctx.ui.result({ ok: true, deleted: result.done, orphans: report, appResources: result.appResources }, [
      `Stack "${ctx.stack}" is gone (${result.done.length} resources deleted, ${orphans.length} of them not in state${appResourcesText(result.appResources)}).`,
    ]);
  } finally {
    lock?.release();
    if (!dirExisted && existsSync(ctx.stackDir) && readdirSync(ctx.stackDir).length === 0) rmdirSync(ctx.stackDir);
  }
}

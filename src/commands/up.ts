/**
 * `pilot up PROJECT/APP`: build, deploy and release the app as a remote job
 * on the Pilot server's runner (`waypoint up -local=false`), its output
 * streamed phase by phase, ending with the app's URL. A failed job ends with
 * the phase that failed and the last lines of its log, exit 1. An ECS app gets
 * its environment as SSM parameter names in its secrets variable (`-var`).
 *
 * A Cloud Run app is then released by Pilot itself, from this machine with
 * the user's credentials (src/apps/cloud-run-up.ts): its variables to Secret
 * Manager, all traffic to the new revision, and who may call it as state
 * records it. After a failed job a private Cloud Run app still loses any
 * public access an earlier release left.
 */
import { defineCommand } from "citty";
import { PilotError } from "../errors.js";
import { runWatchedJob, watchTiming } from "../apps/job-watch.js";
import { appRecord, parseAppRef, type AppRef } from "../apps/app-ref.js";
import type { ServerSession } from "../apps/server-session.js";
import type { CloudRunRelease } from "../providers/gcp/cloud-run-release.js";
import type { AppState, StackState } from "../state/schema.js";
import { appParameterPath } from "../providers/aws/app-names.js";
import { buildContext, type CommandContext } from "./context.js";
import { loadStack } from "./load-stack.js";
import { commonArgs } from "./shared-args.js";

export default defineCommand({
  meta: { name: "up", description: "Build, deploy and release an app on the Pilot server's runner" },
  args: {
    ...commonArgs,
    app: { type: "positional", required: false, description: "The app, as PROJECT/APP", valueHint: "PROJECT/APP" },
  },
  async run({ args }) {
    const ref = parseAppRef(args.app, "up");
    const ctx = buildContext("up", args);
    try {
      const timing = watchTiming(ctx.env); // a bad setting fails before anything is touched
      const { state, provider } = await loadStack(ctx);
      const { openServerSession } = await import("../apps/server-session.js");
      const session = await openServerSession(ctx, state, provider);
      try {
        const record = appRecord(state, ref);
        const emit = ctx.ui.emit.bind(ctx.ui);
        /** Database parameters written just now: listed below even if SSM's listing does not show them yet. */
        let written: string[] = [];
        if (record?.withDb) {
          // Every time: a rotated password or a rebuilt database reaches the app on its next deploy.
          const db = provider.databaseInfo(state);
          const password = db ? state.secrets[db.passwordSecret] : undefined;
          if (!db || !password) throw new PilotError(`${ref.key} wants the stack's database, but stack "${ctx.stack}" has none yet.`, { hint: "Run `pilot up-server` first." });
          const { databaseConfig, setConfig } = await import("../apps/app-config.js");
          const vars = databaseConfig(db, password);
          // The password is redacted already (loadStack); the URL holds it percent-encoded, which is another string.
          ctx.ui.addSecrets([vars.DATABASE_URL, encodeURIComponent(password)]);
          if (record.target === "ecs") {
            // An ECS task reaches neither the server nor its CA, so Waypoint's config never gets to it:
            // ECS reads these parameters itself (named in the job's secrets variable below, or in the
            // fixed `secrets` map of a waypoint.hcl written before there was one).
            const { createSsmClient, putAppParameters } = await import("../providers/aws/app-parameters.js");
            const region = String(state.settings.region);
            const ssm = createSsmClient(region);
            try {
              emit({ type: "start", key: "up:parameters", action: "update" });
              written = await putAppParameters(ssm, { region, stack: ctx.stack, stackId: state.lineage, project: ref.project, app: ref.app, values: vars });
              emit({ type: "progress", key: "up:parameters", message: `${written.length} SecureString parameters under ${appParameterPath(ctx.stack, ref.project, ref.app)}` });
              emit({ type: "done", key: "up:parameters", action: "update" });
            } finally {
              ssm.destroy();
            }
          }
          emit({ type: "start", key: "up:config", action: "update" });
          await setConfig(session, ref.project, ref.app, vars);
          emit({ type: "done", key: "up:config", action: "update" });
        }

        const secrets = record?.target === "ecs" && record.secretsVariable ? await ecsSecrets(ctx, String(state.settings.region), ref, record.secretsVariable, written) : undefined;

        const { JobReader, urlFromJob } = await import("../apps/job.js");
        const reader = new JobReader({
          phaseStart: (phase) => emit({ type: "start", key: `up:${phase}`, action: "update" }),
          phaseDone: (phase) => emit({ type: "done", key: `up:${phase}`, action: "update" }),
          line: (text) => text.trim() && emit({ type: "log", level: "info", message: `  ${text}` }),
        });
        const started = Date.now();
        const r = await runWatchedJob(session, waypointUpArgs(ref, secrets?.flag), { project: ref.project, app: ref.app, operation: "up" }, {
          onOutput: (chunk) => reader.feed(chunk),
          warn: (message) => emit({ type: "log", level: "warn", message }),
          timing,
        });
        const phases = reader.finish(r.code === 0);
        const cloudRun = record?.target === "cloud-run" ? await cloudRunUp(ctx, state, ref, record) : undefined;
        if (r.code !== 0) {
          const phase = reader.phase ?? "start";
          emit({ type: "failed", key: `up:${phase}`, error: `exit ${r.code}` });
          const tail = reader.tail().join("\n") || `waypoint up exited ${r.code}`;
          const advice = cloudRun ? await cloudRun.afterFailure(phase, reader.lines) : record && undeclaredVariableHint(reader.lines, record);
          throw new PilotError(`pilot up ${ref.key} failed in the ${phase} phase.`, { hint: [tail, advice].filter(Boolean).join("\n") });
        }

        let url = urlFromJob(reader.lines);
        let release: Awaited<ReturnType<NonNullable<typeof cloudRun>["release"]>> | undefined;
        if (cloudRun) {
          release = await cloudRun.release(session);
          url = release.url ?? url;
        }
        let pruned = 0;
        if (record?.target === "docker" || (!record && !url)) {
          const docker = await import("../apps/docker-target.js");
          pruned = await docker.pruneReplaced(session, ref.key);
          if (record) url = (await docker.appUrl(session, ref.key, record.port)) ?? url;
        }
        const seconds = Math.round((Date.now() - started) / 100) / 10;
        ctx.ui.result({ ok: true, app: ref.key, url: url ?? null, phases, seconds, prunedContainers: pruned, ...(release ? { release } : {}), ...(secrets ? { secrets: Object.keys(secrets.map) } : {}) }, [
          `${ref.key} is deployed (${phases.map((p) => `${p.phase} ${p.seconds}s`).join(", ")}; ${seconds}s in all).`,
          ...(release ? releaseLines(release) : []),
          url ? `URL: ${url}` : "The deployment gave no URL (see `pilot apps`).",
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

/** `pilot up`'s Cloud Run steps, bound to this run: the release after a job, and what to do after a failed one. */
async function cloudRunUp(ctx: CommandContext, state: StackState, ref: AppRef, record: AppState) {
  const m = await import("../apps/cloud-run-up.js");
  const project = String(state.settings.project);
  const region = String(state.settings.region);
  const emit = ctx.ui.emit.bind(ctx.ui);
  const progress = (message: string) => emit({ type: "progress", key: "up:pilot-release", message });
  const opts = {
    state,
    stack: ctx.stack,
    ref,
    record,
    addSecrets: (values: string[]) => ctx.ui.addSecrets(values),
    env: async () => (await import("../providers/gcp/cloud-run-release.js")).createCloudRunEnv(ctx.env, project, region, { progress }),
  };
  return {
    async release(session: ServerSession) {
      emit({ type: "start", key: "up:pilot-release", action: "update" });
      try {
        const done = await m.releaseAfterJob(session, opts);
        emit({ type: "done", key: "up:pilot-release", action: "update" });
        return done;
      } catch (err) {
        emit({ type: "failed", key: "up:pilot-release", error: (err as Error).message });
        throw err;
      }
    },
    /** Secures a private app, then says what Pilot knows about the failure. */
    async afterFailure(phase: string, lines: string[]): Promise<string | undefined> {
      const notes: string[] = [];
      try {
        const removed = await m.secureAfterFailure(opts);
        if (removed.length > 0) notes.push(`Pilot removed public access to the private app's Cloud Run service: ${removed.join(", ")}.`);
      } catch (err) {
        notes.push(`Pilot could not check who may call the Cloud Run service ${ref.app}: ${(err as Error).message}`);
      }
      const hint = m.cloudRunFailureHint({ ref, record, stack: ctx.stack, region }, phase, lines);
      return [...notes, ...(hint ? [hint] : [])].join("\n") || undefined;
    },
  };
}

/** What Pilot's own release of a Cloud Run app did, in the human output (names, never values). */
function releaseLines(r: CloudRunRelease): string[] {
  const v = r.variables;
  const vars = [
    v.written.length ? `${v.written.length} written (${v.written.join(", ")})` : "",
    v.unchanged.length ? `${v.unchanged.length} unchanged` : "",
    v.deleted.length ? `${v.deleted.length} deleted (${v.deleted.join(", ")})` : "",
  ].filter(Boolean);
  return [
    `Released by Pilot: all traffic on ${r.revision ?? "the latest revision"}; ${r.public ? "public (anyone may call it)" : "private (callers need roles/run.invoker)"}` +
      `${r.access.removed.length ? `; removed ${r.access.removed.join(", ")}` : ""}${r.access.added.length ? `; granted ${r.access.added.join(", ")}` : ""}.`,
    ...(vars.length ? [`Variables in Secret Manager: ${vars.join(", ")}.`] : []),
    ...(v.skipped.length ? [`Not passed to Cloud Run, which sets them itself: ${v.skipped.join(", ")}.`] : []),
  ];
}

/** The job: remote, plain output, and the app's secrets variable when it has one (ECS). */
export function waypointUpArgs(ref: AppRef, varFlag?: string): string[] {
  return ["up", `-project=${ref.project}`, `-app=${ref.app}`, "-local=false", "-plain", ...(varFlag ? [varFlag] : [])];
}

/** An ECS app's secrets variable, from its SSM folder (src/apps/ecs-secrets.ts appSecrets). */
async function ecsSecrets(ctx: CommandContext, region: string, ref: AppRef, variable: string, written: string[]): Promise<{ map: Record<string, string>; flag: string }> {
  const { createSsmClient } = await import("../providers/aws/app-parameters.js");
  const { appSecrets } = await import("../apps/ecs-secrets.js");
  const folder = appParameterPath(ctx.stack, ref.project, ref.app);
  const ssm = createSsmClient(region);
  try {
    ctx.ui.emit({ type: "start", key: "up:secrets", action: "update" });
    const { secrets, flag } = await appSecrets(ssm, { region, stack: ctx.stack, project: ref.project, app: ref.app, variable, written });
    const names = Object.keys(secrets);
    ctx.ui.emit({ type: "progress", key: "up:secrets", message: names.length ? `${names.join(", ")} from ${folder}` : `none under ${folder}` });
    ctx.ui.emit({ type: "done", key: "up:secrets", action: "update" });
    return { map: secrets, flag };
  } finally {
    ssm.destroy();
  }
}

/**
 * The job refused the secrets variable because the waypoint.hcl it read does not declare
 * it: the file `pilot new app` wrote (with --force, over one from before) is not what the
 * runner checked out. Said plainly, with where the file is.
 */
export function undeclaredVariableHint(lines: string[], record: AppState): string | undefined {
  const v = record.secretsVariable;
  // Waypoint wraps its messages at 80 columns, even with -plain.
  const text = lines.join(" ").replace(/\s+/g, " ");
  if (!v || !text.includes("Undefined variable") || !text.includes(`"${v}"`)) return undefined;
  return (
    `The waypoint.hcl the runner read does not declare the variable "${v}" that \`pilot new app\` wrote into ${record.dir}/waypoint.hcl: ` +
    "commit and push that file (or, for a project whose file is kept on the server, give it to `pilot new project --waypoint-hcl`), then run `pilot up` again."
  );
}

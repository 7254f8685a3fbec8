/**
 * `pilot up PROJECT/APP`: build, deploy and release the app as a remote job
 * on the Pilot server's runner (`waypoint up -local=false`), its output
 * streamed phase by phase, ending with the app's URL. A failed job ends with
 * the phase that failed and the last lines of its log, exit 1.
 */
import { defineCommand } from "citty";
import { PilotError } from "../errors.js";
import { runWatchedJob, watchTiming } from "../apps/job-watch.js";
import { appRecord, parseAppRef } from "../apps/app-ref.js";
import { appParameterPath } from "../providers/aws/app-names.js";
import { buildContext } from "./context.js";
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
            // ECS reads these parameters itself (the app's waypoint.hcl names them in `secrets`).
            const { createSsmClient, putAppParameters } = await import("../providers/aws/app-parameters.js");
            const region = String(state.settings.region);
            const ssm = createSsmClient(region);
            try {
              emit({ type: "start", key: "up:parameters", action: "update" });
              const written = await putAppParameters(ssm, { region, stack: ctx.stack, stackId: state.lineage, project: ref.project, app: ref.app, values: vars });
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

        const { JobReader, urlFromJob } = await import("../apps/job.js");
        const reader = new JobReader({
          phaseStart: (phase) => emit({ type: "start", key: `up:${phase}`, action: "update" }),
          phaseDone: (phase) => emit({ type: "done", key: `up:${phase}`, action: "update" }),
          line: (text) => text.trim() && emit({ type: "log", level: "info", message: `  ${text}` }),
        });
        const started = Date.now();
        const r = await runWatchedJob(session, ["up", `-project=${ref.project}`, `-app=${ref.app}`, "-local=false", "-plain"], { project: ref.project, app: ref.app, operation: "up" }, {
          onOutput: (chunk) => reader.feed(chunk),
          warn: (message) => emit({ type: "log", level: "warn", message }),
          timing,
        });
        const phases = reader.finish(r.code === 0);
        if (r.code !== 0) {
          const phase = reader.phase ?? "start";
          emit({ type: "failed", key: `up:${phase}`, error: `exit ${r.code}` });
          throw new PilotError(`pilot up ${ref.key} failed in the ${phase} phase.`, { hint: reader.tail().join("\n") || `waypoint up exited ${r.code}` });
        }

        let url = urlFromJob(reader.lines);
        let pruned = 0;
        if (record?.target === "docker" || (!record && !url)) {
          const docker = await import("../apps/docker-target.js");
          pruned = await docker.pruneReplaced(session, ref.key);
          if (record) url = (await docker.appUrl(session, ref.key, record.port)) ?? url;
        }
        const seconds = Math.round((Date.now() - started) / 100) / 10;
        ctx.ui.result({ ok: true, app: ref.key, url: url ?? null, phases, seconds, prunedContainers: pruned }, [
          `${ref.key} is deployed (${phases.map((p) => `${p.phase} ${p.seconds}s`).join(", ")}; ${seconds}s in all).`,
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

/**
 * `pilot env set|unset|list PROJECT/APP`: the app's environment, which it
 * gets at its next `pilot up`. Values never travel in argv and are redacted
 * in every output; `list` shows them only with --show.
 *
 * Where they are kept depends on where the app runs:
 *   - an ECS app Pilot generated: SecureString parameters in its SSM folder
 *     (`/pilot/<stack>/<project>/<app>/`), written with the user's AWS
 *     credentials; `pilot up` hands the folder's parameter names to the job
 *     as the app's secrets variable, and ECS reads them when a task starts.
 *     The Waypoint server's configuration would never reach such a task (it
 *     reaches neither the server nor its CA), so nothing goes there;
 *   - any other app: its configuration on the Waypoint server, handed to the
 *     app at run time by the entrypoint Waypoint injects (values go to the
 *     server on stdin).
 */
import { defineCommand } from "citty";
import { PilotError, UsageError } from "../errors.js";
import { appRecord, parseAppRef, regenerateCommand, type AppRef } from "../apps/app-ref.js";
import type { ServerSession } from "../apps/server-session.js";
import { appParameterPath } from "../providers/aws/app-names.js";
import { DATABASE_VARIABLE_NAMES } from "../providers/database-url.js";
import type { AppState, StackState } from "../state/schema.js";
import { buildContext, type CommandContext } from "./context.js";
import { loadStack } from "./load-stack.js";
import { commonArgs } from "./shared-args.js";

const target = { type: "positional", required: false, description: "The app, as PROJECT/APP", valueHint: "PROJECT/APP" } as const;

/** An ECS app as `pilot new app` recorded it, with its stack's state. */
interface EcsApp {
  state: StackState;
  ref: AppRef;
  record: AppState;
  region: string;
}

interface Handlers {
  /** An ECS app Pilot generated: its SSM folder, no server needed. */
  ecs(ctx: CommandContext, app: EcsApp): Promise<void>;
  /** Any other app: the Waypoint server's configuration. */
  server(ctx: CommandContext, session: ServerSession, ref: AppRef, record: AppState | undefined): Promise<void>;
}

/** Opens what the app's variables live in for one env subcommand, and closes everything after. */
async function onApp(command: string, args: { app?: string; name?: string; json?: boolean; verbose?: boolean }, handlers: Handlers, before?: (ctx: CommandContext) => void): Promise<void> {
  const ref = parseAppRef(args.app, command);
  const ctx = buildContext(command, args);
  try {
    before?.(ctx);
    const { state, provider } = await loadStack(ctx);
    try {
      const record = appRecord(state, ref);
      if (record?.target === "ecs") {
        await handlers.ecs(ctx, { state, ref, record, region: String(state.settings.region) });
        return;
      }
      const { openServerSession } = await import("../apps/server-session.js");
      const session = await openServerSession(ctx, state, provider);
      try {
        await handlers.server(ctx, session, ref, record);
      } finally {
        await session.close();
      }
    } finally {
      provider.close?.();
    }
  } finally {
    ctx.ui.close();
  }
}

/**
 * An ECS app whose waypoint.hcl has a fixed `secrets` map (written before it declared the
 * secrets variable): a variable set now would never reach it, so Pilot says how to move on.
 */
function requireSecretsVariable(ctx: CommandContext, app: EcsApp): void {
  if (app.record.secretsVariable) return;
  throw new PilotError(`${app.ref.key}'s waypoint.hcl names its ECS secrets in a fixed map (it was written before \`pilot env\` reached ECS apps), so no variable set or unset now would reach the app; nothing was changed.`, {
    hint: `Write the file again with \`${regenerateCommand(ctx.stack, app.record)}\` (it then declares the variable \`pilot up\` fills from SSM), commit and push it, and run this again.`,
  });
}

/** Variables that `pilot up` writes itself on every deploy of an app with the stack's database. */
function overwrittenByUp(record: AppState | undefined, keys: string[]): string[] {
  return record?.withDb ? keys.filter((k) => (DATABASE_VARIABLE_NAMES as readonly string[]).includes(k)) : [];
}

/** Positionals after PROJECT/APP: citty gathers every positional in `_` (flag values excluded). */
function trailing(args: { _: string[] }): string[] {
  return args._.slice(1);
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString("utf8").replace(/\r?\n$/, "");
}

const set = defineCommand({
  meta: { name: "set", description: "Set variables: KEY=VALUE ... (KEY=- reads that value from stdin)" },
  args: { ...commonArgs, app: target, pairs: { type: "positional", required: false, description: "KEY=VALUE pairs", valueHint: "KEY=VALUE..." } },
  async run({ args }) {
    const { checkConfigKey } = await import("../apps/app-config.js");
    const pairs = trailing(args);
    if (pairs.length === 0) throw new UsageError("pilot env set needs at least one KEY=VALUE.", "Run `pilot env set PROJECT/APP KEY=VALUE` (KEY=- reads the value from stdin).");
    const vars: Record<string, string> = {};
    const fromStdin = pairs.filter((p) => p.endsWith("=-"));
    if (fromStdin.length > 1) throw new UsageError("Only one KEY=- can read its value from stdin.");
    for (const p of pairs) {
      const eq = p.indexOf("=");
      if (eq <= 0) throw new UsageError(`"${p}" is not KEY=VALUE.`);
      vars[checkConfigKey(p.slice(0, eq))] = p.slice(eq + 1);
    }
    if (fromStdin.length === 1) {
      if (process.stdin.isTTY) throw new UsageError(`${fromStdin[0]} reads the value from stdin, which is a terminal here.`, "Pipe the value in.");
      vars[fromStdin[0]!.slice(0, -2)] = await readStdin();
    }
    const keys = Object.keys(vars);
    const warnAboutUp = (ctx: CommandContext, record: AppState | undefined, ref: AppRef) => {
      const db = overwrittenByUp(record, keys);
      if (db.length) ctx.ui.warn(`${ref.key} has the stack's database: every \`pilot up ${ref.key}\` writes ${db.join(", ")} again, over this value.`);
    };
    await onApp(
      "env set",
      args,
      {
        async ecs(ctx, app) {
          requireSecretsVariable(ctx, app);
          // SSM holds no empty value (PutParameter's minimum length is 1); a value on several lines it does hold.
          const empty = keys.filter((k) => vars[k] === "");
          if (empty.length) throw new UsageError(`${empty.join(", ")} ${empty.length > 1 ? "are" : "is"} empty, which an SSM parameter cannot hold; nothing was changed.`, `Leave it out, or remove it with \`pilot env unset ${app.ref.key} ${empty.join(" ")}\`.`);
          const { createSsmClient, putAppParameters } = await import("../providers/aws/app-parameters.js");
          const ssm = createSsmClient(app.region);
          let parameters: string[];
          try {
            parameters = await putAppParameters(ssm, { region: app.region, stack: ctx.stack, stackId: app.state.lineage, project: app.ref.project, app: app.ref.app, values: vars, writer: "pilot env set" });
          } finally {
            ssm.destroy();
          }
          warnAboutUp(ctx, app.record, app.ref);
          const folder = appParameterPath(ctx.stack, app.ref.project, app.ref.app);
          ctx.ui.result({ ok: true, app: app.ref.key, set: keys, parameters }, [
            `Set ${keys.join(", ")} for ${app.ref.key} as SecureString parameters under ${folder}; the app gets ${keys.length > 1 ? "them" : "it"} from its next \`pilot up ${app.ref.key}\`.`,
          ]);
        },
        async server(ctx, session, ref, record) {
          const { setConfig } = await import("../apps/app-config.js");
          await setConfig(session, ref.project, ref.app, vars);
          warnAboutUp(ctx, record, ref);
          ctx.ui.result({ ok: true, app: ref.key, set: keys }, [`Set ${keys.join(", ")} for ${ref.key}; the app sees it after its next \`pilot up ${ref.key}\`.`]);
        },
      },
      // Before anything can print: no value may reach a log line or the JSON document.
      (ctx) => ctx.ui.addSecrets(Object.values(vars)),
    );
  },
});

const unset = defineCommand({
  meta: { name: "unset", description: "Remove variables: KEY ..." },
  args: { ...commonArgs, app: target, keys: { type: "positional", required: false, description: "Variable names", valueHint: "KEY..." } },
  async run({ args }) {
    const { checkConfigKey } = await import("../apps/app-config.js");
    const keys = trailing(args);
    if (keys.length === 0) throw new UsageError("pilot env unset needs at least one KEY.");
    keys.forEach(checkConfigKey);
    const noteUp = (record: AppState | undefined, ref: AppRef): string[] => {
      const db = overwrittenByUp(record, keys);
      return db.length ? [`${ref.key} has the stack's database: its next \`pilot up\` writes ${db.join(", ")} again.`] : [];
    };
    await onApp("env unset", args, {
      async ecs(ctx, app) {
        requireSecretsVariable(ctx, app);
        const { createSsmClient, deleteParameters } = await import("../providers/aws/app-parameters.js");
        const folder = appParameterPath(ctx.stack, app.ref.project, app.ref.app);
        const ssm = createSsmClient(app.region);
        let missing: string[];
        try {
          missing = await deleteParameters(ssm, keys.map((k) => `${folder}${k}`), app.region);
        } finally {
          ssm.destroy();
        }
        const notSet = keys.filter((k) => missing.includes(`${folder}${k}`));
        const removed = keys.filter((k) => !notSet.includes(k));
        ctx.ui.result({ ok: true, app: app.ref.key, unset: removed, notSet }, [
          ...(removed.length ? [`Removed ${removed.join(", ")} from ${app.ref.key} (its parameters under ${folder}); the app loses ${removed.length > 1 ? "them" : "it"} at its next \`pilot up ${app.ref.key}\`.`] : []),
          ...(notSet.length ? [`${notSet.join(", ")} ${notSet.length > 1 ? "were" : "was"} not set for ${app.ref.key}.`] : []),
          ...noteUp(app.record, app.ref),
        ]);
      },
      async server(ctx, session, ref, record) {
        const { unsetConfig } = await import("../apps/app-config.js");
        await unsetConfig(session, ref.project, ref.app, keys);
        ctx.ui.result({ ok: true, app: ref.key, unset: keys }, [`Removed ${keys.join(", ")} from ${ref.key}.`, ...noteUp(record, ref)]);
      },
    });
  },
});

/** Prints the app's variables: values only when asked (--show), else redacted. */
function printVariables(ctx: CommandContext, ref: AppRef, vars: Record<string, string | undefined>, show: boolean | undefined, json: boolean | undefined, extra: Record<string, unknown> = {}, notes: string[] = []): void {
  const keys = Object.keys(vars).sort();
  if (show) {
    // Asked for: the one place values are printed, so the renderer's redaction is bypassed.
    const sorted = Object.fromEntries(keys.map((k) => [k, vars[k]]));
    process.stdout.write(json ? JSON.stringify({ ok: true, app: ref.key, variables: sorted, ...extra }, null, 2) + "\n" : keys.map((k) => `${k}=${vars[k]}`).join("\n") + (keys.length ? "\n" : ""));
    if (!json) for (const n of notes) process.stderr.write(`${n}\n`);
    return;
  }
  const hidden = Object.fromEntries(keys.map((k) => [k, "<redacted>"]));
  ctx.ui.result({ ok: true, app: ref.key, variables: hidden, ...extra }, [...(keys.length ? keys.map((k) => `${k}=<redacted>`) : [`${ref.key} has no variables.`]), ...notes]);
}

const list = defineCommand({
  meta: { name: "list", description: "List the app's variables (values hidden unless --show)" },
  args: { ...commonArgs, app: target, show: { type: "boolean", description: "Show the values" } },
  async run({ args }) {
    await onApp("env list", args, {
      async ecs(ctx, app) {
        const { createSsmClient, appParameterNames, parameterValues } = await import("../providers/aws/app-parameters.js");
        const { secretsFromParameterNames } = await import("../apps/ecs-secrets.js");
        const folder = appParameterPath(ctx.stack, app.ref.project, app.ref.app);
        const ssm = createSsmClient(app.region);
        try {
          // What the next `pilot up` passes the job: the folder's parameters, by variable name.
          const secrets = secretsFromParameterNames(folder, await appParameterNames(ssm, { region: app.region, stack: ctx.stack, project: app.ref.project, app: app.ref.app }));
          const values = args.show ? await parameterValues(ssm, Object.values(secrets), app.region) : {};
          // With --show, a parameter deleted between the two calls is left out rather than shown without a value.
          const vars = Object.fromEntries(Object.entries(secrets).filter(([, name]) => !args.show || name in values).map(([k, name]) => [k, values[name]]));
          const pending = app.record.withDb ? DATABASE_VARIABLE_NAMES.filter((k) => !(k in secrets)) : [];
          const notes = [
            ...(pending.length ? [`${pending.join(", ")}: written by the next \`pilot up ${app.ref.key}\` (the app has the stack's database).`] : []),
            ...(app.record.secretsVariable ? [] : [`Only the database's variables reach this app: its waypoint.hcl has a fixed \`secrets\` map (see \`pilot env set\`).`]),
          ];
          printVariables(ctx, app.ref, vars, args.show, args.json, { parameters: folder }, notes);
        } finally {
          ssm.destroy();
        }
      },
      async server(ctx, session, ref) {
        const { listConfig } = await import("../apps/app-config.js");
        printVariables(ctx, ref, await listConfig(session, ref.project, ref.app), args.show, args.json);
      },
    });
  },
});

export default defineCommand({
  meta: { name: "env", description: "An app's environment (SSM for ECS apps, else the server's config): set, unset, list" },
  subCommands: { set, unset, list },
});

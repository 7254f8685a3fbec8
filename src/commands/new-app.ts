/**
 * `pilot new app`: writes an app's waypoint.hcl from the stack's state,
 * creates the image repository its target needs, and records the app in
 * state. On a terminal it asks what the flags left open; without one, every
 * missing flag is named in one sentence and nothing is touched.
 */
import { defineCommand } from "citty";
import { existsSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { writeFileAtomic } from "../atomic-write.js";
import { PilotError, UsageError } from "../errors.js";
import { appKey, checkAppName, checkBuilder, checkPort, checkTarget, defaultTarget, TARGETS_BY_PROVIDER, type AppTarget } from "../apps/names.js";
import { renderAppHcl } from "../apps/hcl.js";
import { appSecretsVariable } from "../providers/aws/app-names.js";
import type { AppState } from "../state/schema.js";
import { buildContext, type CommandContext } from "./context.js";
import { loadStack } from "./load-stack.js";
import type { AppAnswers } from "./new-app-prompts.js";
import { ensureExecutionRole, ensureRepository, planTarget } from "./new-app-targets.js";
import { commonArgs } from "./shared-args.js";

export const HCL_FILE = "waypoint.hcl";

const args = {
  ...commonArgs,
  project: { type: "string", description: "Waypoint project the app belongs to", valueHint: "NAME" },
  app: { type: "string", description: "The app's name", valueHint: "NAME" },
  target: { type: "string", description: "Where it runs: docker (beside the server), ecs (AWS) or cloud-run (GCP); default: the stack's provider's", valueHint: "TARGET" },
  builder: { type: "string", description: "docker (its Dockerfile, the default) or pack (Cloud Native Buildpacks)", valueHint: "BUILDER" },
  port: { type: "string", description: "The port the app listens on in its container", valueHint: "PORT" },
  dir: { type: "string", description: "Folder to write waypoint.hcl into (default: the current folder)", valueHint: "DIR" },
  "with-db": { type: "boolean", description: "Give the app the stack's DATABASE_URL (set by `pilot up`: on the server, or in SSM for ECS; never in the file)" },
  public: { type: "boolean", description: "Let anyone on the internet call the app (cloud-run only); default: private" },
  force: { type: "boolean", description: "Replace an existing waypoint.hcl" },
} as const;

type NewAppArgs = { [K in keyof typeof args]?: (typeof args)[K]["type"] extends "boolean" ? boolean : string };

/** Flags that must be given when there is no terminal to ask on. */
const REQUIRED = ["project", "app", "port"] as const;

export default defineCommand({
  meta: { name: "app", description: "Write an app's waypoint.hcl from the stack's state (asks on a terminal, or takes flags)" },
  args,
  async run({ args: a, rawArgs }) {
    await newApp(a as NewAppArgs, rawArgs);
  },
});

/** "--a", "--a and --b", "--a, --b and --c". */
function listFlags(names: readonly string[]): string {
  const f = names.map((n) => `--${n}`);
  return f.length <= 1 ? f.join("") : `${f.slice(0, -1).join(", ")} and ${f[f.length - 1]}`;
}

/** The flags' answers, checked; undefined where a flag was not given. */
function givenAnswers(a: NewAppArgs, rawArgs: string[]): Partial<AppAnswers> {
  const saidWithDb = rawArgs.some((r) => /^--(no-)?with-db(=|$)/.test(r));
  const saidPublic = rawArgs.some((r) => /^--(no-)?public(=|$)/.test(r));
  return {
    project: a.project !== undefined ? checkAppName("project", a.project) : undefined,
    app: a.app !== undefined ? checkAppName("app", a.app) : undefined,
    builder: a.builder !== undefined ? checkBuilder(a.builder) : undefined,
    port: a.port !== undefined ? checkPort(a.port) : undefined,
    withDb: saidWithDb ? Boolean(a["with-db"]) : undefined,
    public: saidPublic ? Boolean(a.public) : undefined,
  };
}

/** Targets whose waypoint.hcl can open the app to everyone. */
const PUBLIC_TARGETS: readonly AppTarget[] = ["cloud-run"];

/** Where the reach of a target's apps is decided instead, for the refusal's hint. */
const REACH_ELSEWHERE: Partial<Record<AppTarget, string>> = {
  ecs: "ECS apps share the stack's load balancers' group: `pilot up-server --public-apps` opens them all (default: --allow-cidr only).",
  docker: "A docker app's port is published on the server host; leave out --public.",
};

/**
 * `--public` only where it is the app's own choice: Cloud Run. A docker app's
 * port is the server host's business, and an ECS app's reach is the stack's
 * (`up-server --public-apps`).
 */
function refusePublic(target: AppTarget, isPublic: boolean | undefined): void {
  if (isPublic && !PUBLIC_TARGETS.includes(target)) {
    throw new UsageError(
      `--public is not supported for the ${target} target: only ${PUBLIC_TARGETS.join(", ")} apps are made public one by one; nothing was written.`,
      REACH_ELSEWHERE[target] ?? "Leave out --public.",
    );
  }
}

/** The folder to write into: it must exist (a mistyped path is not created). */
function targetDir(dir: string | undefined): string {
  const abs = resolve(dir ?? process.cwd());
  if (!existsSync(abs) || !statSync(abs).isDirectory()) throw new UsageError(`--dir ${abs} is not a folder.`, "Create it first, or pass another --dir.");
  return abs;
}

function refuseOverwrite(file: string, force: boolean | undefined): void {
  if (existsSync(file) && !force) {
    throw new PilotError(`${file} already exists; Pilot left it as it was.`, { hint: "Pass --force to replace it, or --dir for another folder." });
  }
}

export async function newApp(a: NewAppArgs, rawArgs: string[]): Promise<void> {
  const ctx = buildContext("new app", a);
  try {
    const missingFlags = REQUIRED.filter((k) => a[k] === undefined);
    if (missingFlags.length > 0 && !ctx.interactive) {
      throw new UsageError(
        `Missing ${listFlags(missingFlags)}: there is no terminal to ask on, so nothing was written.`,
        "Pass them as flags, e.g. `pilot new app --project shop --app web --port 8080`.",
      );
    }
    const given = givenAnswers(a, rawArgs);
    const dir = targetDir(a.dir);
    const file = join(dir, HCL_FILE);
    refuseOverwrite(file, a.force);

    const { state, provider } = await loadStack(ctx);
    try {
      if (a.target !== undefined) given.target = checkTarget(state.provider, a.target);
      // Before any question, where the target is already known (a flag, or the only one this provider has).
      const targets = TARGETS_BY_PROVIDER[state.provider];
      const knownTarget = given.target ?? (ctx.interactive && missingFlags.length > 0 && targets.length > 1 ? undefined : defaultTarget(state.provider));
      if (knownTarget) refusePublic(knownTarget, given.public);
      let answers: AppAnswers;
      // Questions only when a required flag is missing: a full set of flags runs as it would in a script.
      if (ctx.interactive && missingFlags.length > 0) {
        const { askAppAnswers } = await import("./new-app-prompts.js");
        answers = await askAppAnswers({ given, targets, stack: ctx.stack, publicTargets: PUBLIC_TARGETS });
      } else {
        answers = { project: given.project!, app: given.app!, port: given.port!, target: given.target ?? defaultTarget(state.provider), builder: given.builder ?? "docker", withDb: given.withDb ?? false, public: given.public ?? false };
      }
      refusePublic(answers.target, answers.public);
      await writeApp(ctx, provider, answers, dir, file, a.force);
    } finally {
      provider.close?.();
    }
  } finally {
    ctx.ui.close();
  }
}

async function writeApp(ctx: CommandContext, provider: Parameters<typeof planTarget>[1], answers: AppAnswers, dir: string, file: string, force: boolean | undefined): Promise<void> {
  const key = appKey(answers.project, answers.app);
  const lock = ctx.store.lock("new app");
  try {
    const state = ctx.store.load()!;
    const plan = await planTarget(ctx, provider, state, answers.target, answers.project, answers.app);
    // Asked again under the lock and after the questions: the file may have appeared meanwhile.
    refuseOverwrite(file, force);
    // The role first: a refused one then leaves nothing behind, and teardown finds a role by its name, state or not.
    const executionRole = await ensureExecutionRole(ctx, state, plan, answers.project, answers.app);
    const { repository, created } = await ensureRepository(ctx, state, plan, answers.project, answers.app);
    const text = renderAppHcl({ stack: ctx.stack, provider: state.provider, serverAddress: plan.serverAddress, ...answers, deploy: plan.deploy });
    // Recorded first: a repository just made is in state even if the write below fails, so teardown finds it.
    // Whether it is public is recorded for Cloud Run only: `pilot up` reads it when it releases the app.
    const { public: isPublic, ...recorded } = answers;
    const record: AppState = {
      ...recorded,
      ...(answers.target === "cloud-run" ? { public: isPublic === true } : {}),
      dir,
      ...(repository ? { repository } : {}),
      // The file declares it, so `pilot up` may set it (an undeclared -var fails the job).
      ...(answers.target === "ecs" ? { secretsVariable: appSecretsVariable(answers.app) } : {}),
      createdAt: state.apps?.[key]?.createdAt ?? new Date().toISOString(),
    };
    await ctx.store.update((s) => {
      s.apps = { ...(s.apps ?? {}), [key]: record };
    });
    // Committed with the code, so readable by all (not the 0600 Pilot's secrets get); it holds none.
    writeFileAtomic(file, text, 0o644);
    const warnings = plan.deploy.target === "docker" && state.provider === "local" ? await loopbackWarnings(ctx, plan.deploy.network) : [];
    for (const w of warnings) ctx.ui.warn(w);
    ctx.ui.result(
      {
        ok: true,
        app: key,
        file,
        target: answers.target,
        builder: answers.builder,
        port: answers.port,
        withDb: answers.withDb,
        public: answers.public,
        repository: repository ?? null,
        ...(executionRole ? { executionRole } : {}),
        warnings,
      },
      [
        `Wrote ${file} for ${key} (target ${answers.target}, builder ${answers.builder}, port ${answers.port}).`,
        ...(repository ? [`Images go to ${repository.image} (${created ? "repository created" : "existing repository of this stack adopted"}).`] : []),
        ...(executionRole ? [`ECS task execution role ${executionRole.name} ${executionRole.created ? "created" : "of this stack updated"}: it may read the app's SSM parameters (\`pilot env set ${key}\` writes them).`] : []),
        ...(answers.withDb
          ? [
              answers.target === "ecs"
                ? `DATABASE_URL is not in the file: \`pilot up ${key}\` writes it to SSM Parameter Store, where ECS reads it.`
                : answers.target === "cloud-run"
                  ? `DATABASE_URL is not in the file: \`pilot up ${key}\` sets it on the server and writes it to Secret Manager, where Cloud Run reads it.`
                  : `DATABASE_URL is not in the file: \`pilot up ${key}\` sets it on the server.`,
            ]
          : []),
        ...(answers.target === "cloud-run"
          ? [`Pilot releases it after each deploy: ${answers.public ? "public (anyone may call it)" : "private (callers need roles/run.invoker; --public opens it)"}.`]
          : []),
        `Next: commit ${HCL_FILE} with the code, then run \`pilot up ${key}\`.`,
      ],
    );
  } finally {
    lock.release();
  }
}

/** Local engine: makes the "waypoint" network bound to loopback, and says which networks would still publish on every interface. */
async function loopbackWarnings(ctx: CommandContext, stackNetwork: string): Promise<string[]> {
  const { createDockerCli } = await import("../providers/local/docker.js");
  const { ensureLoopbackNetworks, HOST_BINDING_OPTION } = await import("../apps/local-network.js");
  let open: string[];
  try {
    open = await ensureLoopbackNetworks(createDockerCli(ctx.env), [stackNetwork]);
  } catch (err) {
    // The file is written by now; an engine that does not answer is for `pilot up` to report.
    return [`Could not check the Docker networks' port binding: ${(err as Error).message}`];
  }
  return open.map(
    (n) => `Docker network ${n} publishes ports on every interface (it has no ${HOST_BINDING_OPTION}=127.0.0.1), so this app's port will be reachable from other machines.`,
  );
}

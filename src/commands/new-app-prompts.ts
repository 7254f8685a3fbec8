/**
 * `pilot new app`'s questions on a terminal (@clack/prompts), asked only for
 * what the flags did not say. Prompts draw on stderr, so stdout carries only
 * the command's result, as with every other command.
 */
import { PilotError } from "../errors.js";
import { BUILDERS, checkAppName, checkPort, type AppBuilder, type AppTarget } from "../apps/names.js";

/** The answers `pilot new app` needs; each is either a flag's value or a question's. */
export interface AppAnswers {
  project: string;
  app: string;
  target: AppTarget;
  builder: AppBuilder;
  port: number;
  withDb: boolean;
  /** Anyone may call it (cloud-run only; false for targets that cannot be public). */
  public: boolean;
}

/** What the flags already settled (undefined = ask), and the choices that fit this stack. */
export interface AskOptions {
  given: Partial<AppAnswers>;
  targets: readonly AppTarget[];
  stack: string;
  /** Targets that can be made public: only they get the question. */
  publicTargets: readonly AppTarget[];
}

const TARGET_LABELS: Record<AppTarget, string> = {
  docker: "docker: a container beside the Pilot server",
  ecs: "ecs: AWS ECS on Fargate, image in ECR",
  "cloud-run": "cloud-run: Google Cloud Run, image in Artifact Registry",
};

/** clack's validate: the names' own checks, their message shown under the input. */
function validator(check: (v: string) => unknown) {
  return (value: string | undefined) => {
    try {
      check(value ?? "");
      return undefined;
    } catch (err) {
      return (err as Error).message;
    }
  };
}

/** Asks for every answer the flags left open; Ctrl-C cancels with nothing written. */
export async function askAppAnswers(opts: AskOptions): Promise<AppAnswers> {
  const p = await import("@clack/prompts");
  const io = { output: process.stderr };
  const done = <T>(value: T): Exclude<T, symbol> => {
    if (p.isCancel(value)) {
      p.cancel("Cancelled; nothing was written.", io);
      throw new PilotError("Cancelled; nothing was written.");
    }
    return value as Exclude<T, symbol>;
  };
  const g = opts.given;
  p.intro(`New app on Pilot stack "${opts.stack}"`, io);
  const project = g.project ?? done(await p.text({ ...io, message: "Project", placeholder: "shop", validate: validator((v) => checkAppName("project", v)) }));
  const app = g.app ?? done(await p.text({ ...io, message: "App", placeholder: "web", validate: validator((v) => checkAppName("app", v)) }));
  const target =
    g.target ??
    (opts.targets.length === 1
      ? opts.targets[0]!
      : done(await p.select<AppTarget>({ ...io, message: "Where should it run?", options: opts.targets.map((t) => ({ value: t, label: TARGET_LABELS[t] })), initialValue: opts.targets[0] })));
  const builder =
    g.builder ??
    done(
      await p.select<AppBuilder>({
        ...io,
        message: "How should it be built?",
        options: BUILDERS.map((b) => ({ value: b, label: b === "docker" ? "docker: from its Dockerfile" : "pack: Cloud Native Buildpacks, no Dockerfile" })),
        initialValue: "docker",
      }),
    );
  const port =
    g.port ??
    checkPort(done(await p.text({ ...io, message: "Port it listens on", placeholder: "3000", defaultValue: "3000", validate: validator((v) => checkPort(v || "3000")) })));
  const withDb = g.withDb ?? done(await p.confirm({ ...io, message: "Give it the stack's database (DATABASE_URL)?", initialValue: true }));
  // Private unless asked: the question only where the target can be public, and "no" preselected.
  const isPublic =
    g.public ??
    (opts.publicTargets.includes(target) ? done(await p.confirm({ ...io, message: "Let anyone on the internet call it (public)?", initialValue: false })) : false);
  p.outro("Writing waypoint.hcl", io);
  return { project: project.trim(), app: app.trim(), target, builder, port, withDb, public: isPublic };
}

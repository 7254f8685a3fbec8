/**
 * `pilot new project NAME --git-url URL ...`: registers a Waypoint project
 * with a git data source and remote operations on the stack's server. The
 * same arguments again change nothing; different ones update the project.
 * Git credentials come from a file (--git-ssh-key) or stdin
 * (--git-password-stdin), never argv, and are never printed.
 */
import { defineCommand } from "citty";
import { readFileSync } from "node:fs";
import { PilotError, UsageError } from "../errors.js";
import { checkAppName } from "../apps/names.js";
import {
  DEFAULT_GIT_REF, checkGitPath, checkGitRef, checkGitUrl, projectApplyArgs, projectDigest, projectRecord, serverMatches,
  type ProjectSpec, type ServerProject,
} from "../apps/project.js";
import type { Provider } from "../providers/types.js";
import { buildContext, type CommandContext } from "./context.js";
import { loadStack } from "./load-stack.js";
import { changeArgs, commonArgs } from "./shared-args.js";

const args = {
  ...commonArgs,
  "dry-run": changeArgs["dry-run"],
  project: { type: "positional", required: false, description: "The project's name (asked for on a terminal when left out)", valueHint: "NAME" },
  "git-url": { type: "string", description: "The repository the runner checks the code out from", valueHint: "URL" },
  "git-ref": { type: "string", description: `Branch, tag or commit to deploy (default: ${DEFAULT_GIT_REF}, the default branch)`, valueHint: "REF" },
  "git-path": { type: "string", description: "Folder of the repository holding the apps (default: its root)", valueHint: "DIR" },
  "git-ssh-key": { type: "string", description: "Private key file for an ssh:// or git@ repository", valueHint: "FILE" },
  "git-user": { type: "string", description: "User name for an https repository (with --git-password-stdin)", valueHint: "USER" },
  "git-password-stdin": { type: "boolean", description: "Read the https password or token from stdin" },
  "waypoint-hcl": { type: "string", description: "Keep this waypoint.hcl on the server for the project's apps, instead of the repository's", valueHint: "FILE" },
} as const;

interface NewProjectArgs {
  project?: string;
  "git-url"?: string;
  "git-ref"?: string;
  "git-path"?: string;
  "git-ssh-key"?: string;
  "git-user"?: string;
  "git-password-stdin"?: boolean;
  "waypoint-hcl"?: string;
  "dry-run"?: boolean;
  name?: string;
  json?: boolean;
  verbose?: boolean;
}

export default defineCommand({
  meta: { name: "project", description: "Register a project (git repository, remote operations) on the Pilot server" },
  args,
  async run({ args: a }) {
    await newProject(a as NewProjectArgs);
  },
});

function readFileArg(flag: string, path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (err) {
    throw new UsageError(`--${flag} ${path} cannot be read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}.`);
  }
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

/** Every flag checked and every credential read before anything is loaded or contacted. */
async function projectSpec(a: NewProjectArgs, name: string): Promise<ProjectSpec> {
  if (!a["git-url"]) throw new UsageError("--git-url is required.", "Run `pilot new project NAME --git-url URL`.");
  const gitUrl = checkGitUrl(a["git-url"]);
  const gitRef = checkGitRef(a["git-ref"] ?? DEFAULT_GIT_REF);
  const gitPath = a["git-path"] !== undefined ? checkGitPath(a["git-path"]) : undefined;
  if (a["git-ssh-key"] && (a["git-user"] || a["git-password-stdin"])) {
    throw new UsageError("Choose one way to authenticate: --git-ssh-key, or --git-user with --git-password-stdin.");
  }
  if (Boolean(a["git-user"]) !== Boolean(a["git-password-stdin"])) {
    throw new UsageError("--git-user and --git-password-stdin go together.", "Pipe the password or token in: `printf %s \"$TOKEN\" | pilot new project ... --git-user U --git-password-stdin`.");
  }
  let auth: ProjectSpec["auth"];
  if (a["git-ssh-key"]) {
    const privateKey = readFileArg("git-ssh-key", a["git-ssh-key"]);
    if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(privateKey)) throw new UsageError(`--git-ssh-key ${a["git-ssh-key"]} holds no PEM private key.`);
    auth = { kind: "ssh", privateKey };
  } else if (a["git-user"]) {
    if (process.stdin.isTTY) throw new UsageError("--git-password-stdin reads the password from stdin, which is a terminal here.", "Pipe it in instead.");
    const password = (await readStdin()).replace(/\r?\n$/, "");
    if (!password || password.includes("\n")) throw new UsageError("--git-password-stdin read no password (or more than one line) from stdin.");
    auth = { kind: "basic", username: a["git-user"], password };
  }
  const waypointHcl = a["waypoint-hcl"] !== undefined ? readFileArg("waypoint-hcl", a["waypoint-hcl"]) : undefined;
  return { name, gitUrl, gitRef, ...(gitPath ? { gitPath } : {}), ...(auth ? { auth } : {}), ...(waypointHcl !== undefined ? { waypointHcl } : {}) };
}

/** The project's name: the argument, or asked for on a terminal; without either, a usage error. */
async function projectName(ctx: CommandContext, given: string | undefined): Promise<string> {
  if (given !== undefined) return checkAppName("project", given);
  if (!ctx.interactive) throw new UsageError("The project's NAME is missing.", "Run `pilot new project NAME --git-url URL`.");
  const p = await import("@clack/prompts");
  const answer = await p.text({
    output: process.stderr,
    message: "Project name",
    placeholder: "shop",
    validate: (v) => {
      try {
        checkAppName("project", v ?? "");
        return undefined;
      } catch (err) {
        return (err as Error).message;
      }
    },
  });
  if (p.isCancel(answer)) throw new PilotError("Cancelled; nothing was changed.");
  return checkAppName("project", answer);
}

async function newProject(a: NewProjectArgs): Promise<void> {
  const ctx = buildContext("new project", a);
  try {
    const name = await projectName(ctx, a.project);
    const spec = await projectSpec(a, name);
    const secrets = spec.auth?.kind === "basic" ? [spec.auth.password] : spec.auth?.kind === "ssh" ? [spec.auth.privateKey.trim()] : [];
    ctx.ui.addSecrets(secrets);
    const { provider } = await loadStack(ctx);
    try {
      const lock = a["dry-run"] ? undefined : ctx.store.lock("new project");
      try {
        await registerProject(ctx, provider, spec, Boolean(a["dry-run"]));
      } finally {
        lock?.release();
      }
    } finally {
      provider.close?.();
    }
  } finally {
    ctx.ui.close();
  }
}

async function registerProject(ctx: CommandContext, provider: Provider<any>, spec: ProjectSpec, dryRun: boolean): Promise<void> {
  const state = ctx.store.load()!; // again, under the lock
  const known = state.projects?.[spec.name];
  const { openServerSession, expectOk } = await import("../apps/server-session.js");
  const session = await openServerSession(ctx, state, provider);
  try {
    const inspect = await session.waypoint(["project", "inspect", "-json", `-project=${spec.name}`]);
    const onServer = inspect.code === 0 ? (JSON.parse(inspect.stdout) as ServerProject) : undefined;
    const same = known?.specDigest === projectDigest(spec) && serverMatches(onServer, spec);
    const change = same ? "unchanged" : onServer ? "updated" : "created";
    const summary = { project: spec.name, gitUrl: spec.gitUrl, gitRef: spec.gitRef, gitPath: spec.gitPath ?? null, gitAuth: spec.auth?.kind ?? "none", serverHcl: spec.waypointHcl !== undefined };
    if (same || dryRun) {
      const verb = same ? "is up to date" : `would be ${change}`;
      ctx.ui.result({ ok: true, change: same ? change : `would be ${change}`, dryRun, ...summary }, [`Project ${spec.name} ${verb} (${spec.gitUrl} at ${spec.gitRef}).`]);
      return;
    }
    ctx.ui.emit({ type: "start", key: `project:${spec.name}`, action: onServer ? "update" : "create" });
    const { args, files } = projectApplyArgs(spec);
    expectOk(await session.waypoint(args, { files }), `\`waypoint project apply ${spec.name}\``);
    const after = await session.waypoint(["project", "inspect", "-json", `-project=${spec.name}`]);
    if (after.code !== 0 || !serverMatches(JSON.parse(after.stdout) as ServerProject, spec)) {
      throw new PilotError(`The server did not keep project ${spec.name} as given (git ${spec.gitUrl} at ${spec.gitRef}, remote operations on).`, {
        hint: "Run the command again; if it persists, inspect it with `pilot server --token` and the Waypoint UI.",
      });
    }
    await ctx.store.update((s) => {
      s.projects = { ...(s.projects ?? {}), [spec.name]: projectRecord(spec) };
    });
    ctx.ui.emit({ type: "done", key: `project:${spec.name}`, action: onServer ? "update" : "create" });
    ctx.ui.result({ ok: true, change, dryRun: false, ...summary }, [
      `Project ${spec.name} ${change}: the runner checks out ${spec.gitUrl} at ${spec.gitRef}${spec.gitPath ? ` (${spec.gitPath})` : ""}.`,
      "Next: `pilot new app --project " + spec.name + "` in the repository, commit its waypoint.hcl, then `pilot up " + spec.name + "/APP`.",
    ]);
  } finally {
    await session.close();
  }
}

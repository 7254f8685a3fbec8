/**
 * A Waypoint project with a git data source and remote operations, as
 * `pilot new project` registers it. The CLI's `project apply` takes a git
 * password only as a flag (argv: visible in `ps`), so Pilot hands it the
 * whole data source as a file instead (`-from-waypoint-hcl`), written from
 * stdin into a private folder in the server container (server-session.ts).
 */
import { createHash } from "node:crypto";
import { UsageError } from "../errors.js";
import type { ProjectState } from "../state/schema.js";
import { attr, block, comment, renderHcl } from "./hcl-writer.js";

export interface GitAuthSsh {
  kind: "ssh";
  /** PEM of the private key. */
  privateKey: string;
}
export interface GitAuthBasic {
  kind: "basic";
  username: string;
  password: string;
}

/** Everything a project is made from. Credentials live here only in memory. */
export interface ProjectSpec {
  name: string;
  gitUrl: string;
  gitRef: string;
  gitPath?: string;
  auth?: GitAuthSsh | GitAuthBasic;
  /** A waypoint.hcl kept on the server for the project's apps (else the repository's own is used). */
  waypointHcl?: string;
}

/** Git's default branch, whatever it is named, as Waypoint itself defaults. */
export const DEFAULT_GIT_REF = "HEAD";

/**
 * The URL forms go-git (Waypoint's git client) clones from: https/http,
 * ssh://, git://, file:// and scp-like user@host:path. Anything else would
 * fail only later, on the runner, in the middle of a job.
 */
export function checkGitUrl(url: string): string {
  const ok = /^(https?|ssh|git|file):\/\/[^\s]+$/.test(url) || /^[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:[^\s]+$/.test(url);
  if (!ok) {
    throw new UsageError(
      `--git-url "${url}" is not a git URL.`,
      "Use https://host/owner/repo.git, ssh://git@host/owner/repo.git, git@host:owner/repo.git or git://host/repo.git.",
    );
  }
  return url;
}

export function checkGitRef(ref: string): string {
  // git check-ref-format's core rules: no spaces, control characters, "..", or ~^:?*[\ .
  if (!ref || /[\s~^:?*[\\\x00-\x1f\x7f]|\.\.|@\{|^[/.]|[/.]$|\.lock$/.test(ref)) {
    throw new UsageError(`--git-ref "${ref}" is not a valid git ref.`, "Use a branch, a tag or a commit (e.g. main, v1.2.0).");
  }
  return ref;
}

export function checkGitPath(path: string): string {
  if (path.startsWith("/") || path.split("/").includes("..") || /[\x00-\x1f]/.test(path)) {
    throw new UsageError(`--git-path "${path}" must be a folder inside the repository (relative, without "..").`);
  }
  return path;
}

/** The document handed to `waypoint project apply -from-waypoint-hcl`: the project and its git data source. */
export function projectSourceHcl(spec: ProjectSpec): string {
  const git = [
    attr("url", spec.gitUrl),
    attr("ref", spec.gitRef),
    ...(spec.gitPath ? [attr("path", spec.gitPath)] : []),
    ...(spec.auth?.kind === "basic" ? [attr("username", spec.auth.username), attr("password", spec.auth.password)] : []),
    ...(spec.auth?.kind === "ssh" ? [attr("key", spec.auth.privateKey)] : []),
  ];
  return renderHcl([
    comment("Written by Pilot into a private temporary folder on the server, read once by `waypoint project apply`."),
    attr("project", spec.name),
    block("runner", [], [attr("enabled", true), block("data_source", ["git"], git)]),
  ]);
}

/**
 * A digest of the whole specification, credentials included: the same
 * arguments give the same digest (nothing to do), a changed password or key
 * a different one. Kept in state, which is already private (0600) and holds
 * the stack's own secrets; the credentials themselves are never stored.
 */
export function projectDigest(spec: ProjectSpec): string {
  return createHash("sha256").update(JSON.stringify([spec.name, spec.gitUrl, spec.gitRef, spec.gitPath ?? "", spec.auth ?? null, spec.waypointHcl ?? null])).digest("hex");
}

/** What state keeps of a project. */
export function projectRecord(spec: ProjectSpec, now = new Date()): ProjectState {
  return {
    gitUrl: spec.gitUrl,
    gitRef: spec.gitRef,
    ...(spec.gitPath ? { gitPath: spec.gitPath } : {}),
    gitAuth: spec.auth?.kind ?? "none",
    serverHcl: spec.waypointHcl !== undefined,
    specDigest: projectDigest(spec),
    updatedAt: now.toISOString(),
  };
}

/** The arguments of `waypoint project apply`, naming the files the session writes next to it. */
export function projectApplyArgs(spec: ProjectSpec): { args: string[]; files: Record<string, string> } {
  const files: Record<string, string> = { "source.hcl": projectSourceHcl(spec) };
  const args = ["project", "apply", "-data-source=git", "-from-waypoint-hcl=source.hcl"];
  if (spec.waypointHcl !== undefined) {
    files["app.hcl"] = spec.waypointHcl;
    args.push("-waypoint-hcl=app.hcl");
  }
  // Remote operations are turned on by the git data source itself (project apply sets RemoteEnabled).
  args.push(spec.name);
  return { args, files };
}

/** The project as the server reports it (`project inspect -json`), to check the essentials took. */
export interface ServerProject {
  name: string;
  remoteEnabled?: boolean;
  dataSource?: { git?: { url?: string; ref?: string; path?: string } };
}

/** True when the server's project matches the spec's name, repository, ref and path, with remote operations on. */
export function serverMatches(p: ServerProject | undefined, spec: ProjectSpec): boolean {
  const git = p?.dataSource?.git;
  return Boolean(p && p.remoteEnabled && git && git.url === spec.gitUrl && (git.ref ?? "") === spec.gitRef && (git.path ?? "") === (spec.gitPath ?? ""));
}

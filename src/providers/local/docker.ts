import { spawn } from "node:child_process";
import type { StackTags } from "../../engine/types.js";

/** The result of one `docker` call. */
export interface DockerResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Options of one call: `env` adds variables for the CLI process (secrets passed by `-e NAME` stay out of argv). */
export interface DockerCallOptions {
  stdin?: string;
  env?: Record<string, string>;
}

/** Runs the docker CLI against the user's engine (no shell). */
export type DockerCli = (args: string[], opts?: DockerCallOptions) => Promise<DockerResult>;

/** The real docker CLI; `DOCKER_HOST` and contexts apply as they do for the user. */
export function createDockerCli(env: NodeJS.ProcessEnv): DockerCli {
  return (args, opts = {}) =>
    new Promise((resolve) => {
      const child = spawn("docker", args, { env: { ...env, ...opts.env }, stdio: ["pipe", "pipe", "pipe"] });
      let stdout = "";
      let stderr = "";
      child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
      child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
      child.stdin.on("error", () => {});
      child.stdin.end(opts.stdin ?? "");
      child.on("error", (err: NodeJS.ErrnoException) =>
        resolve({ code: err.code === "ENOENT" ? 127 : 126, stdout, stderr: `docker: ${err.message}` }),
      );
      child.on("close", (code) => resolve({ code: code ?? 1, stdout, stderr }));
    });
}

/** Throws the CLI's own message when a call failed; returns trimmed stdout. */
export async function docker(cli: DockerCli, args: string[], opts?: DockerCallOptions): Promise<string> {
  const r = await cli(args, opts);
  if (r.code !== 0) throw new Error(`docker ${args[0]}: ${dockerMessage(r) || `exit ${r.code}`}`);
  return r.stdout.trim();
}

/** Docker's "no such object" answers: a read or delete of something already gone. */
export function isNoSuch(stderr: string): boolean {
  return /no such (object|container|network|volume)|not found/i.test(stderr);
}

/** Labels carrying the stack tags, so a half-made object can be found after a crash. */
export function labelArgs(tags: StackTags): string[] {
  return ["--label", `pilot.stack=${tags.stack}`, "--label", `pilot.stack-id=${tags.stackId}`, "--label", `pilot.key=${tags.key}`];
}

/** `--filter label=...` for the same tags (stack-id optional: volumes outlive a lineage). */
export function labelFilters(tags: StackTags, opts: { withStackId?: boolean } = {}): string[] {
  const f = ["--filter", `label=pilot.stack=${tags.stack}`, "--filter", `label=pilot.key=${tags.key}`];
  if (opts.withStackId !== false) f.push("--filter", `label=pilot.stack-id=${tags.stackId}`);
  return f;
}

/** Names of everything a local stack owns: prefixed by the stack so stacks can live side by side. */
export function localName(stack: string, what: string): string {
  return `pilot-${stack}-${what}`;
}

/** The docker CLI's error in one line, without its "Run 'docker run --help'" footer. */
export function dockerMessage(r: DockerResult): string {
  return (r.stderr || r.stdout)
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l && !/^Run 'docker .* --help'/.test(l))
    .join(" ")
    .replace(/^docker: /, "");
}

/** A bridge network's default host address for ports published through it (unset: every interface). */
export const HOST_BINDING_OPTION = "com.docker.network.bridge.host_binding_ipv4";

/**
 * The fixture app (test/fixtures/app) made deployable on a local Pilot
 * stack, for the app-workflow e2e test and `npm run bench -- apps`: a base
 * image built here (no registry is reachable), a working copy whose
 * Dockerfile names it, and `git daemon` serving the repository on the
 * stack's network, where the runner clones it from.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { docker } from "./docker.js";

const FIXTURE = new URL("../fixtures/app/", import.meta.url).pathname;

export interface AppFixture {
  /** The working copy: `pilot new app --dir` writes waypoint.hcl here. */
  repoDir: string;
  /** Where the runner clones from. */
  gitUrl: string;
  baseImage: string;
  /** Commits the working copy and publishes it to the served repository. */
  publish(message: string): void;
  /** Removes the git daemon, which sits on the stack's network: before a teardown, which removes that network. */
  stopGit(): void;
  /** Removes the git daemon and the base image (refused while an app image built on it remains: call after teardown). */
  cleanup(): void;
}

/**
 * The app's base: the PostgreSQL stand-in's files (busybox httpd, psql) as a
 * plain image, re-imported so it carries no VOLUME (which would give every
 * app container an anonymous volume) and no entry point of its own.
 */
function buildBaseImage(postgresImage: string, tag: string): void {
  const made = docker("create", postgresImage).trim();
  try {
    const r = spawnSync("sh", ["-c", `docker export ${made} | docker import --change 'ENV PATH=/usr/lib/postgresql/15/bin:/usr/local/bin:/usr/bin:/bin' - ${tag}`], { encoding: "utf8" });
    if (r.status !== 0) throw new Error(`base image: ${r.stderr}`);
  } finally {
    docker("rm", "-f", made);
  }
}

export function startAppFixture(o: { dir: string; suffix: string; network: string; waypointImage: string; postgresImage: string }): AppFixture {
  const baseImage = `pilot-e2e-appbase:${o.suffix}`;
  const gitContainer = `pilot-git-${o.suffix}`;
  buildBaseImage(o.postgresImage, baseImage);
  const repoDir = join(o.dir, "src");
  cpSync(FIXTURE, repoDir, { recursive: true });
  const dockerfile = join(repoDir, "Dockerfile");
  writeFileSync(dockerfile, readFileSync(dockerfile, "utf8").replace("FROM BASE_IMAGE", `FROM ${baseImage}`));
  const served = join(o.dir, "git");
  mkdirSync(served);
  // git daemon runs as the image's unprivileged user: it must get through to the repository.
  chmodSync(o.dir, 0o755);
  docker("run", "-d", "--name", gitContainer, "--network", o.network, "-v", `${served}:/srv/git:ro`,
    // The repository belongs to another user than the daemon's; git refuses such a repository unless told it is safe.
    "-e", "GIT_CONFIG_COUNT=1", "-e", "GIT_CONFIG_KEY_0=safe.directory", "-e", "GIT_CONFIG_VALUE_0=*",
    "--entrypoint", "git", o.waypointImage, "daemon", "--base-path=/srv/git", "--export-all", "--reuseaddr", "/srv/git");

  const git = (...args: string[]) => {
    const r = spawnSync("git", ["-c", "user.email=e2e@pilot.test", "-c", "user.name=e2e", ...args], { cwd: repoDir, encoding: "utf8" });
    if (r.status !== 0) throw new Error(`git ${args.join(" ")}: ${r.stderr}`);
  };
  return {
    repoDir,
    gitUrl: `git://${gitContainer}/shop.git`,
    baseImage,
    publish(message) {
      git("init", "-q", "-b", "main");
      git("add", "-A");
      git("commit", "-q", "--allow-empty", "-m", message);
      const bare = join(served, "shop.git");
      rmSync(bare, { recursive: true, force: true });
      const r = spawnSync("git", ["clone", "-q", "--bare", repoDir, bare], { encoding: "utf8" });
      if (r.status !== 0) throw new Error(`git clone --bare: ${r.stderr}`);
      spawnSync("chmod", ["-R", "a+rX", served]);
    },
    stopGit() {
      spawnSync("docker", ["rm", "-f", "-v", gitContainer]);
    },
    cleanup() {
      this.stopGit();
      spawnSync("docker", ["rmi", "-f", baseImage]);
    },
  };
}

/** GET the fixture app's status page (what it sees of GREETING and the database), waiting for it to answer. */
export async function appStatus(url: string, tries = 30): Promise<string> {
  let last: unknown;
  for (let i = 0; i < tries; i++) {
    try {
      const res = await fetch(`${url}/cgi-bin/status`);
      if (res.ok) return await res.text();
      last = res.status;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`the app at ${url} did not answer: ${String(last)}`);
}

/**
 * The real Docker engine for e2e tests: assert it answers, build the real
 * Waypoint image and the stand-in images, clean up what a test created. Never skips: a missing
 * engine is an error with the fix in its message.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";

const REPO = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** Runs docker; returns stdout, throws with stderr on failure. */
export function docker(...args: string[]): string {
  const r = spawnSync("docker", args, { encoding: "utf8" });
  if (r.error) throw new Error(`docker ${args.join(" ")}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`docker ${args.join(" ")} exited ${r.status}: ${r.stderr.trim()}`);
  return r.stdout;
}

/** Throws a clear error unless `docker info` answers. */
export function requireDocker(): void {
  const r = spawnSync("docker", ["info", "--format", "{{.ServerVersion}}"], { encoding: "utf8" });
  if (r.error || r.status !== 0) {
    throw new Error(
      "e2e tests need a running Docker engine (`docker info` failed: " +
        `${r.error?.message ?? r.stderr.trim()}). Install docker.io and start dockerd; .ci/run does both.`,
    );
  }
}

/**
 * Builds (or reuses) the PostgreSQL stand-in image; returns its tag as { postgres }.
 * Waypoint has no stand-in: every e2e test runs against the real image
 * (buildWaypointImage / realWaypointImage()).
 */
export function buildStandinImages(): { postgres: string } {
  const out = execFileSync("bash", [join(REPO, "scripts", "standin-build.sh")], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
  });
  const postgres = out.trim();
  if (!/^\S+:\S+$/.test(postgres)) throw new Error(`standin-build.sh printed no tag: ${out}`);
  return { postgres };
}

/**
 * Runs scripts/waypoint-build.sh (`npm run waypoint:build`; progress goes to
 * stderr) and returns the real Waypoint image's tag. Idempotent and locked by
 * the script; tests get the tag through realWaypointImage()
 * (./waypoint-image.ts), which builds once per test run.
 */
export function buildWaypointImage(): string {
  const out = execFileSync("bash", [join(REPO, "scripts", "waypoint-build.sh")], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
  }).trim();
  if (!/^\S+:\d+\.\d+\.\d+-[0-9a-f]{12}$/.test(out)) throw new Error(`waypoint-build.sh printed no image tag: ${JSON.stringify(out)}`);
  return out;
}

/** A short random suffix for names that must not collide with parallel runs. */
export function uniqueSuffix(): string {
  return randomBytes(3).toString("hex");
}

/** Removes containers, then networks, then volumes; missing ones are fine. */
export function cleanupDocker(o: { containers?: string[]; networks?: string[]; volumes?: string[] }): void {
  for (const c of o.containers ?? []) spawnSync("docker", ["rm", "-f", "-v", c]);
  for (const n of o.networks ?? []) spawnSync("docker", ["network", "rm", n]);
  for (const v of o.volumes ?? []) spawnSync("docker", ["volume", "rm", "-f", v]);
}

/** `docker inspect --format FORMAT NAME`, trimmed; undefined if it does not exist. */
export function inspect(name: string, format: string): string | undefined {
  const r = spawnSync("docker", ["inspect", "--format", format, name], { encoding: "utf8" });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

/**
 * What the engine shows of a stack when one of its commands failed or hung:
 * every container (on-demand runners have names of their own) and the last
 * log lines of the stack's containers, for the test's failure output.
 */
export function engineDiagnostics(containerPrefix: string, lines = 40): string {
  const run = (...args: string[]) => {
    const r = spawnSync("docker", args, { encoding: "utf8", timeout: 30_000 });
    return `${r.stdout ?? ""}${r.stderr ?? ""}`.trim();
  };
  const parts = [`$ docker ps -a\n${run("ps", "-a", "--format", "{{.Names}}\t{{.Image}}\t{{.Status}}")}`];
  const names = run("ps", "-a", "--filter", `name=${containerPrefix}`, "--format", "{{.Names}}").split("\n").filter(Boolean);
  for (const n of names) parts.push(`$ docker logs --tail ${lines} ${n}\n${run("logs", "--timestamps", "--tail", String(lines), n)}`);
  return parts.join("\n\n");
}

/**
 * The one test that proves Pilot is a PaaS: a real deployment, end to end,
 * on the local provider, with the real Waypoint server and runner (no
 * recording stand-in anywhere on the path). A small web app
 * (test/fixtures/app: busybox httpd + psql on a base image built here, since
 * no registry is reachable) lives in a git repository that `git daemon`
 * serves on the stack's network; the runner clones it, builds it with the
 * docker builder (entrypoint injected), and the docker platform runs it
 * beside the server. The app answers HTTP with what it sees: the value of
 * GREETING and whether its DATABASE_URL reaches the stack's PostgreSQL.
 */
import { spawnSync } from "node:child_process";
import { readFileSync, renameSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appStatus, startAppFixture, type AppFixture } from "../../support/app-fixture.js";
import { buildStandinImages, docker, engineDiagnostics, requireDocker, uniqueSuffix } from "../../support/docker.js";
import { freePorts } from "../../support/ports.js";
import { runCli } from "../../support/run-cli.js";
import { tempHome } from "../../support/temp-home.js";
import { realWaypointImage } from "../../support/waypoint-image.js";

const suffix = uniqueSuffix();
const stack = `app${suffix}`;
const name = (what: string) => `pilot-${stack}-${what}`;
let t: ReturnType<typeof tempHome>;
let env: NodeJS.ProcessEnv;
let fixture: AppFixture;
let password: string;

/**
 * `pilot ARGS` on the test's stack. Bounded below the test's own timeout so a
 * command that hangs still returns what it printed; a failed one prints what
 * the engine shows of the stack (its containers and their last log lines).
 */
async function pilot(args: string[], input?: string) {
  const r = await runCli([...args, "--name", stack], env, { timeoutMs: 240_000, input });
  if (r.code !== 0) console.error(`pilot ${args.join(" ")} exited ${r.code}:\n${r.stderr}\n\n${engineDiagnostics(`pilot-${stack}`)}`);
  return r;
}

/** Every process's argv in a container, as `ps` would show it. */
function argvIn(container: string): string {
  const r = spawnSync("docker", ["exec", container, "sh", "-c", 'for f in /proc/[0-9]*/cmdline; do tr "\\0" " " < "$f" 2>/dev/null; echo; done'], { encoding: "utf8" });
  return r.stdout ?? "";
}

beforeAll(async () => {
  requireDocker();
  const waypointImage = realWaypointImage();
  const postgresImage = buildStandinImages().postgres;
  t = tempHome("pilot-e2e-apps-");
  // A job that never starts fails (naming what it waits behind) within the commands' 240 s bound.
  env = { PILOT_HOME: t.home, XDG_CONFIG_HOME: join(t.home, "xdg"), PILOT_JOB_START_TIMEOUT: "150" };
  const [grpc, http] = await freePorts(2);
  const up = await runCli(["up-server", "--provider", "local", "--name", stack, "--waypoint-image", waypointImage, "--postgres-image", postgresImage,
    "--grpc-port", String(grpc), "--http-port", String(http), "--json"], env, { timeoutMs: 600_000 });
  if (up.code !== 0) throw new Error(`up-server failed: ${up.stderr}`);
  password = (await runCli(["server", "--db", "--name", stack, "--json"], env)).json.password;
  fixture = startAppFixture({ dir: t.home, suffix, network: name("net"), waypointImage, postgresImage });
}, 900_000);

afterAll(async () => {
  // The git daemon is the test's, on the stack's network: it goes first, or the network could not.
  fixture?.stopGit();
  await runCli(["teardown", "--name", stack, "--yes"], env).catch(() => undefined);
  fixture?.cleanup();
  t?.cleanup();
});

describe("the app workflow on the real Waypoint (local provider)", () => {
  let url: string;

  it("new app writes the docker target's waypoint.hcl from the stack's state", async () => {
    const r = await pilot(["new", "app", "--project", "shop", "--app", "web", "--target", "docker", "--port", "3000", "--with-db", "--dir", fixture.repoDir, "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const hcl = readFileSync(join(fixture.repoDir, "waypoint.hcl"), "utf8");
    expect(hcl).toContain(`networks = ["${name("net")}"]`);
    expect(hcl).not.toContain(password);
    expect(hcl).not.toMatch(/DATABASE_URL\s*=/);
    fixture.publish("the fixture app");
  });

  it("new project registers the repository on the server; the same arguments again change nothing", async () => {
    const args = ["new", "project", "shop", "--git-url", fixture.gitUrl, "--git-ref", "main", "--json"];
    const first = await pilot(args);
    expect(first.code, first.stderr).toBe(0);
    expect(first.json.change).toBe("created");
    const again = await pilot(args);
    expect(again.code, again.stderr).toBe(0);
    expect(again.json.change).toBe("unchanged");
    const moved = await pilot(["new", "project", "shop", "--git-url", fixture.gitUrl, "--git-ref", "HEAD", "--json"]);
    expect(moved.json.change).toBe("updated");
    expect((await pilot(args)).json.change).toBe("updated");
  });

  it("up builds and deploys on the runner; the app answers and reaches PostgreSQL with the injected DATABASE_URL", async () => {
    // Watch every process's argv in the server and runner containers while the job runs.
    const seen: string[] = [];
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        seen.push(argvIn(name("waypoint-server")), argvIn(name("waypoint-runner")));
        await new Promise((r) => setTimeout(r, 250));
      }
    })();
    const r = await pilot(["up", "shop/web", "--json"]);
    watching = false;
    await watcher;
    expect(r.code, r.stderr).toBe(0);
    expect(r.json.phases.map((p: { phase: string }) => p.phase)).toEqual(["clone", "build", "deploy", "release"]);
    url = r.json.url;
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    // Published on loopback only: the stack's network and Waypoint's both bind ports to 127.0.0.1.
    const app = docker("ps", "-q", "--filter", "label=pilot.app=shop/web").trim();
    const bindings = docker("port", app, "3000/tcp").trim().split("\n");
    expect(bindings.length).toBeGreaterThan(0);
    for (const b of bindings) expect(b).toMatch(/^127\.0\.0\.1:\d+$/);
    const status = await appStatus(url);
    expect(status).toContain("db=42");
    expect(status).toContain("greeting=unset");
    // The job ran on the runner (remote), and no secret was ever in an argv on the server.
    expect(r.stderr).toMatch(/remote runner/);
    expect(seen.join("\n")).toContain("runner agent");
    expect(seen.join("\n")).not.toContain(password);
    expect(r.stdout + r.stderr).not.toContain(password);
  });

  it("env set, then up: the app sees the new value; env list hides values unless asked", async () => {
    const set = await pilot(["env", "set", "shop/web", "GREETING=-", "--json"], "hello from pilot env\n");
    expect(set.code, set.stderr).toBe(0);
    const list = await pilot(["env", "list", "shop/web", "--json"]);
    expect(list.json.variables).toMatchObject({ GREETING: "<redacted>", DATABASE_URL: "<redacted>" });
    expect(list.stdout).not.toContain(password);
    expect(list.stdout).not.toContain("hello from pilot env");
    const r = await pilot(["up", "shop/web", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json.prunedContainers).toBe(1); // the replaced deployment's container is gone
    const status = await appStatus(r.json.url);
    expect(status).toContain("greeting=hello from pilot env");
    expect(docker("ps", "-aq", "--filter", "label=pilot.app=shop/web").trim().split("\n")).toHaveLength(1);
  });

  it("logs shows the app's output", async () => {
    const r = await pilot(["logs", "shop/web"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("served a status request");
  });

  it("apps lists the project and the app's last deployment", async () => {
    const r = await pilot(["apps", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json.projects).toEqual([{ project: "shop", gitUrl: fixture.gitUrl, gitRef: "main", gitPath: null }]);
    expect(r.json.apps).toHaveLength(1);
    expect(r.json.apps[0]).toMatchObject({ app: "shop/web", target: "docker", lastDeployment: { sequence: 2, state: "SUCCESS" } });
  });

  it("a job no runner takes is cancelled after PILOT_JOB_START_TIMEOUT, saying why, and its CLI is gone from the server", async () => {
    docker("stop", name("waypoint-runner"));
    try {
      const r = await runCli(["up", "shop/web", "--name", stack, "--json"], { ...env, PILOT_JOB_START_TIMEOUT: "20" }, { timeoutMs: 240_000 });
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toMatch(/Job \w+ has waited \d+ s to start, and no runner has taken it/);
      expect(r.stderr).toMatch(/Job \w+ \(waypoint up of shop\/web\) waited \d+ s for a runner, and no runner has taken it; Pilot cancelled it\./);
      expect(argvIn(name("waypoint-server"))).not.toMatch(/waypoint up/);
    } finally {
      docker("start", name("waypoint-runner"));
    }
    // The cancelled job never ran: the app's last deployment is still the second.
    const apps = await pilot(["apps", "--json"]);
    expect(apps.json.apps[0]).toMatchObject({ lastDeployment: { sequence: 2, state: "SUCCESS" } });
  });

  it("destroy removes the app's containers, image and scratch volume", async () => {
    const r = await pilot(["destroy", "shop/web", "--yes", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    expect(docker("ps", "-aq", "--filter", "label=pilot.app=shop/web").trim()).toBe("");
    expect(docker("images", "-q", "waypoint.local/web").trim()).toBe("");
    expect(spawnSync("docker", ["volume", "inspect", "web-scratch"]).status).not.toBe(0);
    await expect(fetch(`${url}/cgi-bin/status`)).rejects.toThrow();
  });

  it("new project --waypoint-hcl keeps the configuration on the server: a repository without waypoint.hcl deploys", async () => {
    // The team that would rather not commit waypoint.hcl: the repository loses it, the server keeps it.
    const kept = join(t.home, "kept-waypoint.hcl");
    renameSync(join(fixture.repoDir, "waypoint.hcl"), kept);
    fixture.publish("without waypoint.hcl");
    const project = await pilot(["new", "project", "shop", "--git-url", fixture.gitUrl, "--git-ref", "main", "--waypoint-hcl", kept, "--json"]);
    expect(project.code, project.stderr).toBe(0);
    expect(project.json).toMatchObject({ change: "updated", serverHcl: true });
    const up = await pilot(["up", "shop/web", "--json"]);
    expect(up.code, up.stderr).toBe(0);
    expect(await appStatus(up.json.url)).toContain("db=42");
  });

  it("teardown of a stack with a deployed app removes the app too, then the network", async () => {
    // Deployed by the test before.
    expect(docker("ps", "-q", "--filter", "label=pilot.app=shop/web").trim()).not.toBe("");
    fixture.stopGit(); // the test's git daemon, also on the stack's network
    const down = await pilot(["teardown", "--yes", "--json"]);
    expect(down.code, down.stderr).toBe(0);
    expect(docker("ps", "-aq", "--filter", `label=pilot.stack=${stack}`).trim()).toBe("");
    expect(spawnSync("docker", ["network", "inspect", name("net")]).status).not.toBe(0);
    expect(docker("images", "-q", "waypoint.local/web").trim()).toBe("");
  });
});

/**
 * `pilot up-server --provider local` for real: the CLI against this
 * machine's Docker engine, with the real Waypoint image built locally
 * (realWaypointImage()) and the stand-in PostgreSQL image (no registry is
 * reachable here). One stack goes through its whole life:
 * create, no-op re-run, status, a verified TLS handshake, the database
 * password, teardown keeping volumes, and a full teardown.
 */
import { readFileSync, statSync, existsSync } from "node:fs";
import https from "node:https";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildStandinImages, cleanupDocker, docker, inspect, requireDocker, uniqueSuffix } from "../../support/docker.js";
import { runCli } from "../../support/run-cli.js";
import { freePorts } from "../../support/ports.js";
import { tempHome } from "../../support/temp-home.js";
import { realWaypointImage } from "../../support/waypoint-image.js";

const stack = `e2e${uniqueSuffix()}`;
const name = (what: string) => `pilot-${stack}-${what}`;
let t: ReturnType<typeof tempHome>;
let images: { waypoint: string; postgres: string };
let env: NodeJS.ProcessEnv;
/** Volumes no container uses that existed before this file ran (anything new and dangling at the end leaked). */
let danglingBefore: Set<string>;
const stackDir = () => join(t.home, "stacks", stack);

// Free host ports, not 9701/9702: another stack on this engine may hold those, and up-server would rightly refuse.
let ports: { grpc: number; http: number };

beforeAll(async () => {
  requireDocker();
  const [grpc, http] = await freePorts(2);
  ports = { grpc, http };
  danglingBefore = new Set(docker("volume", "ls", "-q", "--filter", "dangling=true").split("\n").filter(Boolean));
  images = { waypoint: realWaypointImage(), postgres: buildStandinImages().postgres };
  t = tempHome("pilot-e2e-local-");
  env = { PILOT_HOME: t.home, XDG_CONFIG_HOME: join(t.home, "xdg") };
});
afterAll(() => {
  cleanupDocker({
    containers: [name("waypoint-runner"), name("waypoint-server"), name("postgres")],
    networks: [name("net")],
    volumes: [name("pgdata"), name("waypoint-server"), name("waypoint-runner")],
  });
  t.cleanup();
});

const up = (...extra: string[]) =>
  runCli(["up-server", "--provider", "local", "--name", stack, "--waypoint-image", images.waypoint, "--postgres-image", images.postgres,
    "--grpc-port", String(ports.grpc), "--http-port", String(ports.http), "--json", ...extra], env);

describe("pilot up-server --provider local", () => {
  it("creates the database and bootstraps the server on the local engine", async () => {
    const r = await up();
    expect(r.code, r.stderr).toBe(0);
    expect(r.json.ok).toBe(true);
    expect(r.json.plan.map((c: { action: string }) => c.action)).toEqual(["create", "create", "create"]);
    for (const c of ["waypoint-server", "waypoint-runner", "postgres"]) expect(inspect(name(c), "{{.State.Running}}"), c).toBe("true");
    // The runner drives Docker through the mounted socket, unprivileged; the server's ports listen on loopback only.
    expect(inspect(name("waypoint-runner"), "{{.HostConfig.Privileged}}")).toBe("false");
    const ports = JSON.parse(inspect(name("waypoint-server"), "{{json .HostConfig.PortBindings}}")!);
    expect(Object.values(ports).flat().map((b: any) => b.HostIp)).toEqual(["127.0.0.1", "127.0.0.1"]);
    expect(inspect(name("postgres"), "{{json .HostConfig.PortBindings}}")).toMatch(/^(null|\{\})$/);
    // The token is in state (0600) and nowhere in the output.
    const state = JSON.parse(readFileSync(join(stackDir(), "state.json"), "utf8"));
    expect(state.secrets.waypointToken).toBeTruthy();
    expect(statSync(join(stackDir(), "state.json")).mode & 0o777).toBe(0o600);
    expect(r.stdout + r.stderr).not.toContain(state.secrets.waypointToken);
    expect(r.stdout + r.stderr).not.toContain(state.secrets.dbPassword);
    // The user's own waypoint CLI gets a context, readable by the user only.
    const context = join(t.home, "xdg", "waypoint", "context", `pilot-${stack}.hcl`);
    expect(statSync(context).mode & 0o777).toBe(0o600);
    expect(readFileSync(context, "utf8")).toMatch(/tls_skip_verify = false/);
  });

  it("a second run changes nothing and applies no bootstrap step", async () => {
    const before = docker("inspect", "--format", "{{.Id}}", name("waypoint-server"), name("postgres")).trim();
    const r = await up();
    expect(r.code, r.stderr).toBe(0);
    expect(r.json.plan.every((c: { action: string }) => c.action === "keep")).toBe(true);
    const applied = r.json.events.filter((e: { type: string; action?: string }) => e.type === "done" && e.action !== "check" && e.action !== "keep");
    expect(applied).toEqual([]);
    expect(docker("inspect", "--format", "{{.Id}}", name("waypoint-server"), name("postgres")).trim()).toBe(before);
  });

  it("status reports every resource and a healthy server and runner", async () => {
    const r = await runCli(["status", "--name", stack, "--json"], env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json.resources.map((x: { status: string }) => x.status)).toEqual(["ok", "ok", "ok"]);
    expect(r.json.server).toMatchObject({ ok: true, server: "running, answering", runner: "running" });
  });

  it("serves the UI over TLS that verifies against the stack's CA", async () => {
    const ca = readFileSync(join(stackDir(), "tls", "ca.pem"));
    const status = await new Promise<number>((resolve, reject) => {
      https.get({ host: "127.0.0.1", port: ports.http, path: "/", ca }, (res) => resolve(res.statusCode ?? 0)).on("error", reject);
    });
    expect(status).toBeGreaterThan(0);
    await expect(
      new Promise((resolve, reject) => https.get({ host: "127.0.0.1", port: ports.http, path: "/" }, resolve).on("error", reject)),
    ).rejects.toThrow(/self[- ]signed|unable to verify|certificate/i);
  });

  it("server --db gives a password PostgreSQL accepts", async () => {
    const r = await runCli(["server", "--db", "--name", stack, "--json"], env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json).toMatchObject({ host: name("postgres"), port: 5432, user: "pilot", database: "pilot" });
    const out = docker("exec", "-e", `PGPASSWORD=${r.json.password}`, name("postgres"), "psql", "-h", "127.0.0.1", "-U", "pilot", "-d", "pilot", "-tAc", "select 41 + 1");
    expect(out.trim()).toBe("42");
  });

  it("server --token and --ui give the token in state and the loopback UI address", async () => {
    const token = await runCli(["server", "--token", "--name", stack, "--json"], env);
    expect(token.code, token.stderr).toBe(0);
    expect(token.json.token).toBe(JSON.parse(readFileSync(join(stackDir(), "state.json"), "utf8")).secrets.waypointToken);
    const ui = await runCli(["server", "--ui", "--name", stack, "--json"], env);
    expect(ui.json).toMatchObject({ ok: true, url: `https://127.0.0.1:${ports.http}`, caCertificate: join(stackDir(), "tls", "ca.pem") });
    const ssh = await runCli(["server", "--ssh", "--name", stack], env);
    expect(ssh.code).toBe(2);
    expect(ssh.stderr).toMatch(/nothing to SSH into/);
  });

  it("a container removed out of band is restored by the next run", async () => {
    docker("rm", "-f", name("waypoint-runner"));
    docker("rm", "-f", name("postgres"));
    const r = await up();
    expect(r.code, r.stderr).toBe(0);
    expect(r.json.plan.find((c: { key: string }) => c.key === "db").action).toBe("create");
    expect(inspect(name("waypoint-runner"), "{{.State.Running}}")).toBe("true");
    expect(inspect(name("postgres"), "{{.State.Running}}")).toBe("true");
  });

  it("teardown --keep-volumes removes containers and network but keeps the data", async () => {
    const r = await runCli(["teardown", "--name", stack, "--yes", "--keep-volumes"], env);
    expect(r.code, r.stderr).toBe(0);
    for (const c of ["waypoint-server", "waypoint-runner", "postgres"]) expect(inspect(name(c), "{{.Id}}"), c).toBeUndefined();
    expect(inspect(name("net"), "{{.Id}}")).toBeUndefined();
    expect(docker("volume", "ls", "-q")).toContain(name("pgdata"));
    expect(existsSync(stackDir())).toBe(false);
  });

  it("a new stack of the same name adopts the kept database volume; a full teardown removes everything", async () => {
    const r = await up();
    expect(r.code, r.stderr).toBe(0);
    expect(r.json.resources["db-volume"].id).toBe(name("pgdata"));
    // The kept data was initialised by the old stack; the new stack's password must work on it.
    const db = await runCli(["server", "--db", "--name", stack, "--json"], env);
    const out = docker("exec", "-e", `PGPASSWORD=${db.json.password}`, name("postgres"), "psql", "-h", "127.0.0.1", "-U", "pilot", "-d", "pilot", "-tAc", "select 1");
    expect(out.trim()).toBe("1");
    const down = await runCli(["teardown", "--name", stack, "--yes"], env);
    expect(down.code, down.stderr).toBe(0);
    const left = docker("ps", "-aq", "--filter", `label=pilot.stack=${stack}`).trim();
    expect(left).toBe("");
    const volumes = docker("volume", "ls", "-q").split("\n");
    for (const v of ["pgdata", "waypoint-server", "waypoint-runner"]) expect(volumes).not.toContain(name(v));
    // Anonymous volumes too: an image's VOLUME gives every container without a named mount there one of its
    // own, which neither teardown nor --orphans could find once its container is gone.
    const leaked = docker("volume", "ls", "-q", "--filter", "dangling=true").split("\n").filter((v) => v && !danglingBefore.has(v));
    expect(leaked).toEqual([]);
    expect(existsSync(join(t.home, "xdg", "waypoint", "context", `pilot-${stack}.hcl`))).toBe(false);
  });
});

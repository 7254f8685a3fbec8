/**
 * Two local stacks on one Docker engine, each on its own host ports
 * (--grpc-port/--http-port, recorded in state), with the real Waypoint image
 * (realWaypointImage()) and the stand-in PostgreSQL. A busy port, held by a
 * plain listener or by the other stack's server, stops a new stack before
 * anything exists, naming the holder. Tearing one stack down leaves the other
 * working and unsets the user's Waypoint default context when it was the
 * torn-down stack's (set first with the real `waypoint context use`).
 */
import { existsSync, lstatSync, readFileSync } from "node:fs";
import https from "node:https";
import { createServer, type Server } from "node:net";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildStandinImages, cleanupDocker, docker, inspect, requireDocker, uniqueSuffix } from "../../support/docker.js";
import { runCli } from "../../support/run-cli.js";
import { freePorts } from "../../support/ports.js";
import { tempHome } from "../../support/temp-home.js";
import { realWaypointImage } from "../../support/waypoint-image.js";

const s = uniqueSuffix();
const [a, b, c] = [`sba${s}`, `sbb${s}`, `sbc${s}`];
const name = (stack: string, what: string) => `pilot-${stack}-${what}`;
const PARTS = { containers: ["waypoint-runner", "waypoint-server", "postgres"], networks: ["net"], volumes: ["pgdata", "waypoint-server", "waypoint-runner"] };
let t: ReturnType<typeof tempHome>;
let images: { waypoint: string; postgres: string };
let env: NodeJS.ProcessEnv;
let ports: Record<string, { grpc: number; http: number }>;
let holder: Server | undefined;
/** Free ports: one for the plain listener to hold, two for the refused stack's other port. */
let spare: number[];
const xdg = () => join(t.home, "xdg");
const contextDir = () => join(xdg(), "waypoint", "context");

beforeAll(async () => {
  requireDocker();
  images = { waypoint: realWaypointImage(), postgres: buildStandinImages().postgres };
  t = tempHome("pilot-e2e-side-");
  env = { PILOT_HOME: t.home, XDG_CONFIG_HOME: xdg() };
  // Free ports, not 9701/9702: another stack on this engine may hold those.
  const [ag, ah, bg, bh, ...rest] = await freePorts(7);
  ports = { [a]: { grpc: ag, http: ah }, [b]: { grpc: bg, http: bh } };
  spare = rest;
});
afterAll(async () => {
  await new Promise((r) => (holder ? holder.close(r) : r(undefined)));
  for (const stack of [a, b, c]) {
    cleanupDocker({
      containers: PARTS.containers.map((w) => name(stack, w)),
      networks: PARTS.networks.map((w) => name(stack, w)),
      volumes: PARTS.volumes.map((w) => name(stack, w)),
    });
  }
  t?.cleanup();
});

const up = (stack: string, ...extra: string[]) =>
  runCli(["up-server", "--provider", "local", "--name", stack, "--waypoint-image", images.waypoint, "--postgres-image", images.postgres, "--json", ...extra], env);
const withPorts = (stack: string) => ["--grpc-port", String(ports[stack].grpc), "--http-port", String(ports[stack].http)];

/** The real Waypoint CLI from the image, on the same config folder (same path inside, so its symlinks are the user's). */
function waypointCli(...args: string[]) {
  return spawnSync("docker", ["run", "--rm", "--user", "0", "-v", `${xdg()}:${xdg()}`, "-e", `XDG_CONFIG_HOME=${xdg()}`, images.waypoint, ...args], { encoding: "utf8" });
}

/** Status of an HTTPS GET verified against the stack's CA (rejects if TLS or the connection fails). */
function getVerified(stack: string, port: number): Promise<number> {
  const ca = readFileSync(join(t.home, "stacks", stack, "tls", "ca.pem"));
  return new Promise((resolve, reject) => {
    https.get({ host: "127.0.0.1", port, path: "/", ca }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    }).on("error", reject);
  });
}

/** Nothing of `stack` exists: no container, network or volume on the engine, no state folder. */
function expectNothingOf(stack: string) {
  expect(existsSync(join(t.home, "stacks", stack)), "stack folder").toBe(false);
  expect(docker("ps", "-aq", "--filter", `label=pilot.stack=${stack}`).trim()).toBe("");
  for (const w of PARTS.containers) expect(inspect(name(stack, w), "{{.Id}}"), w).toBeUndefined();
  expect(docker("network", "ls", "-q", "--filter", `name=${name(stack, "")}`).trim()).toBe("");
  expect(docker("volume", "ls", "-q", "--filter", `name=${name(stack, "")}`).trim()).toBe("");
}

describe("local stacks side by side", () => {
  it("a port held by another program stops a new stack before anything is created", async () => {
    holder = createServer();
    const held = spare[0];
    await new Promise<void>((resolve) => holder!.listen(held, "127.0.0.1", resolve));
    const r = await runCli(["up-server", "--provider", "local", "--name", c, "--grpc-port", String(held), "--http-port", String(spare[1]),
      "--waypoint-image", images.waypoint, "--postgres-image", images.postgres], env);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain(`port ${held} (Waypoint gRPC, --grpc-port) on 127.0.0.1 is taken by another program on this machine (not a Docker container)`);
    expect(r.stderr).toMatch(/--grpc-port \d+ --http-port \d+/);
    expectNothingOf(c);
  });

  it("two stacks come up, each on its own ports, both healthy", async () => {
    for (const stack of [a, b]) {
      const r = await up(stack, ...withPorts(stack));
      expect(r.code, r.stderr).toBe(0);
      const bindings = JSON.parse(inspect(name(stack, "waypoint-server"), "{{json .HostConfig.PortBindings}}")!);
      expect(bindings["9701/tcp"]).toEqual([{ HostIp: "127.0.0.1", HostPort: String(ports[stack].grpc) }]);
      expect(bindings["9702/tcp"]).toEqual([{ HostIp: "127.0.0.1", HostPort: String(ports[stack].http) }]);
      const state = JSON.parse(readFileSync(join(t.home, "stacks", stack, "state.json"), "utf8"));
      expect(state.settings).toMatchObject({ grpcPort: ports[stack].grpc, httpPort: ports[stack].http });
    }
    for (const stack of [a, b]) {
      const status = await runCli(["status", "--name", stack, "--json"], env);
      expect(status.code, status.stderr).toBe(0);
      expect(status.json.server).toMatchObject({ ok: true, server: "running, answering", runner: "running" });
      // Each answers on its own port with a certificate of its own CA.
      expect(await getVerified(stack, ports[stack].http)).toBeGreaterThan(0);
      const ui = await runCli(["server", "--ui", "--name", stack, "--json"], env);
      expect(ui.json.url).toBe(`https://127.0.0.1:${ports[stack].http}`);
      expect(readFileSync(join(contextDir(), `pilot-${stack}.hcl`), "utf8")).toContain(`"127.0.0.1:${ports[stack].grpc}"`);
    }
    await expect(getVerified(a, ports[b].http)).rejects.toThrow(/certificate|verify|self[- ]signed/i);
  });

  it("a port held by the other stack's server is named, and nothing is created", async () => {
    const r = await runCli(["up-server", "--provider", "local", "--name", c, "--grpc-port", String(ports[a].grpc), "--http-port", String(spare[2]),
      "--waypoint-image", images.waypoint, "--postgres-image", images.postgres], env);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain(`port ${ports[a].grpc} (Waypoint gRPC, --grpc-port) on 127.0.0.1 is taken by the Docker container "${name(a, "waypoint-server")}"`);
    expectNothingOf(c);
  });

  it("a re-run without port flags keeps the recorded ports and changes nothing", async () => {
    const before = inspect(name(a, "waypoint-server"), "{{.Id}}");
    const r = await up(a);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json.plan.every((x: { action: string }) => x.action === "keep")).toBe(true);
    expect(inspect(name(a, "waypoint-server"), "{{.Id}}")).toBe(before);
  });

  it("teardown of one leaves the other working and unsets the user's default context if it was the torn-down one", async () => {
    const use = waypointCli("context", "use", `pilot-${a}`);
    expect(use.status, use.stderr + use.stdout).toBe(0);
    expect(lstatSync(join(contextDir(), "_default.hcl")).isSymbolicLink()).toBe(true);

    const down = await runCli(["teardown", "--name", a, "--yes"], env);
    expect(down.code, down.stderr).toBe(0);
    expect(down.stderr).toContain(`default context was pilot-${a}; it is unset now`);
    expect(existsSync(join(contextDir(), `pilot-${a}.hcl`))).toBe(false);
    expect(() => lstatSync(join(contextDir(), "_default.hcl"))).toThrow(/ENOENT/);
    // The user's waypoint CLI works again (a dangling default makes every command fail).
    const list = waypointCli("context", "list");
    expect(list.status, list.stderr + list.stdout).toBe(0);
    expect(list.stdout).toContain(`pilot-${b}`);
    expect(list.stdout).not.toContain(`pilot-${a}`);

    for (const w of PARTS.containers) expect(inspect(name(a, w), "{{.Id}}"), w).toBeUndefined();
    const status = await runCli(["status", "--name", b, "--json"], env);
    expect(status.code, status.stderr).toBe(0);
    expect(status.json.server).toMatchObject({ ok: true, server: "running, answering", runner: "running" });
    expect(await getVerified(b, ports[b].http)).toBeGreaterThan(0);
  });
});

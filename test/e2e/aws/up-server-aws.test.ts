/**
 * The whole `pilot up-server --provider aws`: the stack is created in moto,
 * and the "instance" is this machine behind a real sshd on loopback
 * (PILOT_SSH_TARGET), so every bootstrap step runs for real over SSH against
 * the real Docker engine, with the real Waypoint image (realWaypointImage()).
 */
import { copyFileSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { awsInventory, inventorySize } from "../../support/aws-inventory.js";
import { cleanupDocker, inspect, requireDocker, uniqueSuffix } from "../../support/docker.js";
import { motoEnv } from "../../support/moto.js";
import { runCli } from "../../support/run-cli.js";
import { startSshd, type TestSshd } from "../../support/sshd.js";
import { tempHome } from "../../support/temp-home.js";
import { realWaypointImage } from "../../support/waypoint-image.js";
import { freePorts } from "../../support/ports.js";

const stack = `aws${uniqueSuffix()}`;
/**
 * The "VM" is this machine, whose Docker engine other runs may share: its
 * server gets names of its own (PILOT_VM_NAME_SUFFIX), and only those are removed.
 */
const vmSuffix = `e2e-${uniqueSuffix()}`;
const VM = {
  serverContainer: `waypoint-server-${vmSuffix}`,
  runnerContainer: `waypoint-runner-${vmSuffix}`,
  network: `pilot-${vmSuffix}`,
  volumes: [`waypoint-server-${vmSuffix}`, `waypoint-runner-${vmSuffix}`],
  remoteDir: `/etc/pilot-${vmSuffix}`,
};
let t: ReturnType<typeof tempHome>;
let sshd: TestSshd;
let env: NodeJS.ProcessEnv;
let waypointImage: string;
const stackDir = () => join(t.home, "stacks", stack);
const state = () => JSON.parse(readFileSync(join(stackDir(), "state.json"), "utf8"));
const up = (...extra: string[]) =>
  runCli(["up-server", "--provider", "aws", "--name", stack, "--region", "us-east-1", "--allow-cidr", "203.0.113.9/32", "--waypoint-image", waypointImage, "--json", ...extra], env);

beforeAll(async () => {
  requireDocker();
  waypointImage = realWaypointImage();
  sshd = await startSshd();
  t = tempHome("pilot-e2e-aws-");
  // The stack's SSH key is the one the test sshd authorises: Pilot keeps an existing key.
  mkdirSync(stackDir(), { recursive: true, mode: 0o700 });
  copyFileSync(sshd.privateKeyPath, join(stackDir(), "id_ed25519"));
  env = {
    ...motoEnv(inject("motoEndpoint")),
    PILOT_HOME: t.home,
    XDG_CONFIG_HOME: join(t.home, "xdg"),
    PILOT_SSH_TARGET: `${sshd.user}@${sshd.host}:${sshd.port}`,
    PILOT_VM_NAME_SUFFIX: vmSuffix,
    // And its own host ports: 9701/9702 may be another run's (or a local stack's) on this machine.
    PILOT_VM_PORTS: (await freePorts(2)).join(","), // the "VM"'s gRPC and UI ports
  };
});

afterAll(async () => {
  // A real VM takes its containers with it when terminated; this "VM" is the test machine.
  cleanupDocker({ containers: [VM.runnerContainer, VM.serverContainer], networks: [VM.network], volumes: VM.volumes });
  rmSync(VM.remoteDir, { recursive: true, force: true });
  await sshd?.stop();
  t?.cleanup();
});

describe("pilot up-server --provider aws, bootstrapped over SSH", () => {
  it("creates the stack in moto, pins the host key and bootstraps the server", async () => {
    const r = await up();
    expect(r.code, r.stderr).toBe(0);
    expect(r.json.ok).toBe(true);
    const s = state();
    expect(s.server.hostKeyFingerprint).toBe(sshd.fingerprint());
    expect(s.secrets.waypointToken).toBeTruthy();
    expect(r.stdout + r.stderr).not.toContain(s.secrets.waypointToken);
    expect(r.stdout + r.stderr).not.toContain(s.secrets.dbPassword);
    expect(inspect(VM.serverContainer, "{{.State.Running}} {{.HostConfig.RestartPolicy.Name}}")).toBe("true unless-stopped");
    expect(inspect(VM.runnerContainer, "{{.State.Running}} {{.HostConfig.Privileged}}")).toBe("true false");
    expect(inspect(VM.network, "{{.Name}}")).toBe(VM.network);
    expect(readFileSync(join(stackDir(), "known_hosts"), "utf8")).toMatch(/^\[127\.0\.0\.1\]:\d+ ssh-ed25519 /);
  });

  it("a re-run of the healthy stack only checks", async () => {
    const before = state();
    const r = await up();
    expect(r.code, r.stderr).toBe(0);
    expect(r.json.plan.every((c: { action: string }) => c.action === "keep")).toBe(true);
    const applied = r.json.events.filter((e: { type: string; action?: string }) => e.type === "done" && e.action !== "check" && e.action !== "keep");
    expect(applied).toEqual([]);
    const after = state();
    expect(Object.fromEntries(Object.entries(after.resources).map(([k, v]: [string, any]) => [k, v.id]))).toEqual(
      Object.fromEntries(Object.entries(before.resources).map(([k, v]: [string, any]) => [k, v.id])),
    );
    expect(after.secrets.waypointToken).toBe(before.secrets.waypointToken);
  });

  it("status reports the resources and a healthy server and runner", async () => {
    const r = await runCli(["status", "--name", stack, "--json"], env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json.server).toMatchObject({ ok: true, server: "running, answering", runner: "running" });
  });

  it("server --ssh runs a command on the server with the pinned key", async () => {
    const r = await runCli(["server", "--ssh", "--name", stack, "--", "echo", "hello from", "$(hostname)"], env);
    expect(r.code, r.stderr).toBe(0);
    // Each word arrives as given: the remote shell expands nothing.
    expect(r.stdout).toBe("hello from $(hostname)\n");
  });

  it("refuses to bootstrap when the server's host key changed, and accepts it when told", async () => {
    await sshd.restart({ newHostKey: true });
    const refused = await up();
    expect(refused.code).toBe(1);
    expect(refused.json.error.message).toMatch(/host key .* changed/);
    expect(refused.json.error.hint).toMatch(/--accept-new-host-key/);
    const accepted = await up("--accept-new-host-key");
    expect(accepted.code, accepted.stderr).toBe(0);
    expect(state().server.hostKeyFingerprint).toBe(sshd.fingerprint());
    // OpenSSH, too, trusts only the newly pinned key.
    const ssh = await runCli(["server", "--ssh", "--name", stack, "--", "true"], env);
    expect(ssh.code, ssh.stderr).toBe(0);
  });

  it("teardown removes every resource from the account", async () => {
    const filter = { tag: { key: "pilot:stack", value: stack }, namePrefix: `pilot-${stack}-` };
    const before = await awsInventory(filter, "us-east-1", env);
    expect(before.instance).toHaveLength(1);
    expect(before.db).toHaveLength(1);
    expect(before.role).toHaveLength(1);
    const r = await runCli(["teardown", "--name", stack, "--yes", "--skip-final-snapshot"], env);
    expect(r.code, r.stderr).toBe(0);
    const left = await awsInventory(filter, "us-east-1", env);
    expect(inventorySize(left), JSON.stringify(left)).toBe(0);
  });
});

/**
 * SSH host keys from the cloud on AWS (issue 8, point 5), end to end: the
 * stack lives in moto, the "VM" is this machine behind a real sshd on
 * loopback (PILOT_SSH_TARGET), and EC2's console output, which moto serves as
 * a fixed kernel log, comes through a proxy that answers GetConsoleOutput the
 * way Ubuntu's cloud-init fills it at first boot: with the test sshd's real
 * host key (test/support/console-proxy.ts). PILOT_TEST_CONSOLE_HOST_KEYS=1
 * tells Pilot the console speaks for the stand-in, so it reads it through its
 * real SDK call instead of skipping it as it does for any PILOT_SSH_TARGET.
 *
 * Each instance's console shows the key its sshd had when the instance first
 * asked (its "first boot"), and keeps showing it, as on EC2. The first read of
 * every instance finds no keys yet, so Pilot's wait for cloud-init runs too.
 *
 *   1. Pilot pins the console's key before its first connection: a console
 *      naming another key than the server presents is refused with nothing
 *      run over SSH; the console naming the server's own key bootstraps it.
 *   2. The same instance presenting another key is refused, the pin kept.
 *   3. A server Pilot itself rebuilt (a new instance for another image) is
 *      pinned afresh from the new instance's console, with no flag or prompt.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import ssh2 from "ssh2";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { awsInventory, inventorySize } from "../../support/aws-inventory.js";
import { cloudInitConsole, fingerprintOfPublicKey, startConsoleProxy, type ConsoleProxy } from "../../support/console-proxy.js";
import { cleanupDocker, inspect, requireDocker, uniqueSuffix } from "../../support/docker.js";
import { motoEnv } from "../../support/moto.js";
import { runCli, type CliResult } from "../../support/run-cli.js";
import { startSshd, type TestSshd } from "../../support/sshd.js";
import { tempHome } from "../../support/temp-home.js";
import { realWaypointImage } from "../../support/waypoint-image.js";
import { freePorts } from "../../support/ports.js";

/** The older of the two amd64 Ubuntu images moto publishes (scripts/moto-amis.json); Pilot picks the newer one. */
const OLDER_UBUNTU = "ami-0a0b0c0d0e0f00001";
const REGION = "us-east-1";
const PINNED_FROM_CLOUD = /Pinned the server's SSH host key (SHA256:[A-Za-z0-9+/]+),? as the cloud published it\./;
const NOT_THE_CLOUDS = /is not the one the cloud published for the server/;

/** The "VM" is this machine, whose Docker engine other runs may share: its server gets names of its own. */
const vmSuffix = `e2e-${uniqueSuffix()}`;
const VM = { serverContainer: `waypoint-server-${vmSuffix}`, runnerContainer: `waypoint-runner-${vmSuffix}`, network: `pilot-${vmSuffix}`, remoteDir: `/etc/pilot-${vmSuffix}` };
const VM_DOCKER = { containers: [VM.runnerContainer, VM.serverContainer], networks: [VM.network], volumes: [`waypoint-server-${vmSuffix}`, `waypoint-runner-${vmSuffix}`] };

let t: ReturnType<typeof tempHome>;
let sshd: TestSshd;
let proxy: ConsoleProxy;
let env: NodeJS.ProcessEnv;
let waypointImage: string;

const stackDir = (stack: string) => join(t.home, "stacks", stack);
const state = (stack: string) => JSON.parse(readFileSync(join(stackDir(stack), "state.json"), "utf8"));
const knownHosts = (stack: string) => join(stackDir(stack), "known_hosts");
const up = (stack: string, ...extra: string[]) =>
  runCli(["up-server", "--provider", "aws", "--name", stack, "--region", REGION, "--allow-cidr", "203.0.113.9/32", "--waypoint-image", waypointImage, "--json", ...extra], env);
const teardown = (stack: string) => runCli(["teardown", "--name", stack, "--yes", "--skip-final-snapshot", "--json"], env);
/** The test sshd's current host key, "ssh-ed25519 AAAA...". */
const sshdPublicKey = () => readFileSync(join(sshd.dir, "host_ed25519.pub"), "utf8").trim();
/** Keys of the bootstrap steps the run started (bootstrap:connect aside). */
const bootstrapSteps = (r: CliResult) =>
  (r.json?.events ?? []).filter((e: { type: string; key?: string }) => e.type === "start" && e.key?.startsWith("bootstrap:") && e.key !== "bootstrap:connect").map((e: { key: string }) => e.key);

/** A stack whose SSH key is the one the test sshd authorises (Pilot keeps an existing key). */
function seedStackKey(stack: string): void {
  mkdirSync(stackDir(stack), { recursive: true, mode: 0o700 });
  copyFileSync(sshd.privateKeyPath, join(stackDir(stack), "id_ed25519"));
}

/** Nothing of the "VM"'s Waypoint server exists on this machine. */
function expectNoServerMade(): void {
  expect(existsSync(VM.remoteDir)).toBe(false);
  expect(inspect(VM.serverContainer, "{{.Id}}")).toBeUndefined();
  expect(inspect(VM.runnerContainer, "{{.Id}}")).toBeUndefined();
  expect(inspect(VM.network, "{{.Id}}")).toBeUndefined();
}

beforeAll(async () => {
  requireDocker();
  waypointImage = realWaypointImage();
  sshd = await startSshd();
  proxy = await startConsoleProxy(inject("motoEndpoint"));
  t = tempHome("pilot-e2e-aws-hostkeys-");
  env = {
    ...motoEnv(proxy.url),
    PILOT_HOME: t.home,
    XDG_CONFIG_HOME: join(t.home, "xdg"),
    PILOT_SSH_TARGET: `${sshd.user}@${sshd.host}:${sshd.port}`,
    PILOT_TEST_CONSOLE_HOST_KEYS: "1",
    PILOT_VM_NAME_SUFFIX: vmSuffix,
    PILOT_VM_PORTS: (await freePorts(2)).join(","), // the "VM"'s gRPC and UI ports
  };
});

afterAll(async () => {
  cleanupDocker(VM_DOCKER);
  rmSync(VM.remoteDir, { recursive: true, force: true });
  await sshd?.stop();
  await proxy?.close();
  t?.cleanup();
});

describe("aws: the console names another key than the server presents", () => {
  const stack = `hkd${uniqueSuffix()}`;
  const decoy = ssh2.utils.generateKeyPairSync("ed25519", { comment: "not-the-server" }).public;
  const decoyFingerprint = fingerprintOfPublicKey(decoy);

  beforeAll(() => {
    seedStackKey(stack);
    expect(decoyFingerprint).not.toBe(sshd.fingerprint());
    proxy.serve(() => cloudInitConsole([decoy]));
    expectNoServerMade();
  });

  it("pins the console's key before connecting, so the server's own key is refused and nothing runs over SSH", async () => {
    const logins = sshd.accepted();
    const r = await up(stack);
    expect(r.code, r.stderr).toBe(1);
    expect(r.json.error.message).toMatch(NOT_THE_CLOUDS);
    expect(r.json.error.message).toContain(decoyFingerprint);
    expect(r.json.error.message).toContain(sshd.fingerprint());
    expect(r.stderr.match(PINNED_FROM_CLOUD)?.[1], r.stderr).toBe(decoyFingerprint);
    expect(r.stderr).not.toMatch(/on first contact/);

    const s = state(stack);
    expect(proxy.reads()).toContain(s.resources.server.id);
    expect(s.server).toMatchObject({ hostKeySource: "cloud", hostKeyFingerprint: decoyFingerprint, hostKeyServerId: s.resources.server.id });
    expect(s.server.bootstrappedAt).toBeUndefined();
    expect(s.secrets.waypointToken).toBeUndefined();
    // Refused at the key exchange: no login, no bootstrap step, nothing made on the "VM".
    expect(sshd.accepted()).toBe(logins);
    expect(bootstrapSteps(r)).toEqual([]);
    expect(existsSync(knownHosts(stack))).toBe(false);
    expectNoServerMade();
  });

  it("teardown removes the stack", async () => {
    const r = await teardown(stack);
    expect(r.code, r.stderr).toBe(0);
  });
});

describe("aws: host keys pinned from the console, per instance", () => {
  const stack = `hk${uniqueSuffix()}`;
  /** The key each instance's console shows: its sshd's key when it was first asked (its first boot). */
  const firstBoot = new Map<string, string>();
  let first: { serverId: string; fingerprint: string; knownHosts: string };

  beforeAll(() => {
    seedStackKey(stack);
    proxy.serve((instanceId, read) => {
      if (!firstBoot.has(instanceId)) firstBoot.set(instanceId, sshdPublicKey());
      // The first look finds cloud-init still running: moto's own console, no keys yet.
      return read === 1 ? undefined : cloudInitConsole([firstBoot.get(instanceId)!]);
    });
  });

  it("the first run waits for the console's keys, pins the key before connecting and bootstraps the server", async () => {
    const r = await up(stack);
    expect(r.code, r.stderr).toBe(0);
    const s = state(stack);
    const serverId = s.resources.server.id;
    expect(s.server).toMatchObject({ hostKeySource: "cloud", hostKeyFingerprint: sshd.fingerprint(), hostKeyServerId: serverId });
    expect(r.stderr.match(PINNED_FROM_CLOUD)?.[1], r.stderr).toBe(sshd.fingerprint());
    expect(r.stderr).not.toMatch(/on first contact/);
    // Read through the real API, again after a console without keys.
    expect(proxy.reads().filter((id) => id === serverId).length).toBeGreaterThanOrEqual(2);
    expect(readFileSync(knownHosts(stack), "utf8")).toBe(`[127.0.0.1]:${sshd.port} ${sshdPublicKey().split(/\s+/).slice(0, 2).join(" ")}\n`);
    expect(s.server.bootstrappedAt).toBeTruthy();
    expect(inspect(VM.serverContainer, "{{.State.Running}}")).toBe("true");
    first = { serverId, fingerprint: sshd.fingerprint(), knownHosts: readFileSync(knownHosts(stack), "utf8") };
  });

  it("the same instance presenting another key is refused, and the pin stays", async () => {
    await sshd.restart({ newHostKey: true });
    expect(sshd.fingerprint()).not.toBe(first.fingerprint);
    const logins = sshd.accepted();
    const r = await up(stack);
    expect(r.code, r.stderr).toBe(1);
    expect(r.json.error.message).toMatch(NOT_THE_CLOUDS);
    expect(r.json.error.message).toContain(first.fingerprint);
    expect(r.json.error.message).toContain(sshd.fingerprint());
    expect(r.json.error.hint).toMatch(/--accept-new-host-key/);
    const s = state(stack);
    expect(s.resources.server.id).toBe(first.serverId);
    expect(s.server).toMatchObject({ hostKeySource: "cloud", hostKeyFingerprint: first.fingerprint, hostKeyServerId: first.serverId });
    expect(readFileSync(knownHosts(stack), "utf8")).toBe(first.knownHosts);
    expect(sshd.accepted()).toBe(logins);
    expect(bootstrapSteps(r)).toEqual([]);
  });

  it("a server Pilot rebuilt is pinned afresh from the new instance's console, with no flag, and bootstrapped", async () => {
    const r = await up(stack, "--ami", OLDER_UBUNTU, "--yes");
    expect(r.code, r.stderr).toBe(0);
    expect(r.json.plan.find((c: { key: string }) => c.key === "server")).toMatchObject({ action: "replace" });
    const s = state(stack);
    const serverId = s.resources.server.id;
    expect(serverId).not.toBe(first.serverId);
    expect(r.stderr).toContain(`The server was rebuilt by Pilot (${first.serverId} → ${serverId})`);
    expect(s.server).toMatchObject({ hostKeySource: "cloud", hostKeyFingerprint: sshd.fingerprint(), hostKeyServerId: serverId });
    expect(r.stderr.match(PINNED_FROM_CLOUD)?.[1], r.stderr).toBe(sshd.fingerprint());
    expect(r.stderr).not.toMatch(/on first contact|--accept-new-host-key/);
    expect(proxy.reads()).toContain(serverId);
    expect(readFileSync(knownHosts(stack), "utf8")).toBe(`[127.0.0.1]:${sshd.port} ${sshdPublicKey().split(/\s+/).slice(0, 2).join(" ")}\n`);
    expect(bootstrapSteps(r).length).toBeGreaterThan(2);
    expect(r.json.ok).toBe(true);
  });

  it("teardown removes every resource from the account", async () => {
    const r = await teardown(stack);
    expect(r.code, r.stderr).toBe(0);
    const left = await awsInventory({ tag: { key: "pilot:stack", value: stack }, namePrefix: `pilot-${stack}-` }, REGION, motoEnv(inject("motoEndpoint")));
    expect(inventorySize(left), JSON.stringify(left)).toBe(0);
  });
});

/**
 * The whole `pilot up-server --provider gcp`: the stack is created in the
 * GCP fake (test/fakes/gcp, PILOT_GCP_ENDPOINT), and the "VM" is this machine
 * behind a real sshd on loopback (PILOT_SSH_TARGET), so every bootstrap step
 * runs for real over SSH against the real Docker engine, with the real
 * Waypoint image (realWaypointImage(), as the AWS e2e does).
 *
 * What only GCP adds: before its first SSH connection Pilot reads the host key
 * the guest agent published (guest attributes `hostkeys/`) and pins it. The
 * fake plays the guest agent: it publishes the test sshd's real key (the run
 * connects and bootstraps), or another key (the run refuses to connect).
 */
import { createHash } from "node:crypto";
import { chmodSync, chownSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execFileSync } from "node:child_process";
import ssh2 from "ssh2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeGcp, type FakeGcp } from "../../fakes/gcp/index.js";
import { cleanupDocker, inspect, requireDocker, uniqueSuffix } from "../../support/docker.js";
import { runCli, type CliResult } from "../../support/run-cli.js";
import { startSshd, TEST_USER, type TestSshd } from "../../support/sshd.js";
import { tempHome } from "../../support/temp-home.js";
import { realWaypointImage } from "../../support/waypoint-image.js";
import { freePorts } from "../../support/ports.js";

const PROJECT = "pilot-test";
const REGION = "europe-west1";
/**
 * On a VM the bootstrap uses fixed names, and a real VM takes them with it;
 * this "VM" is the test machine, whose Docker engine other runs may share, so
 * its server gets names of its own (PILOT_VM_NAME_SUFFIX) and only those are removed.
 */
const vmSuffix = `e2e-${uniqueSuffix()}`;
const VM = { serverContainer: `waypoint-server-${vmSuffix}`, runnerContainer: `waypoint-runner-${vmSuffix}`, network: `pilot-${vmSuffix}`, remoteDir: `/etc/pilot-${vmSuffix}` };
const VM_DOCKER = { containers: [VM.runnerContainer, VM.serverContainer], networks: [VM.network], volumes: [`waypoint-server-${vmSuffix}`, `waypoint-runner-${vmSuffix}`] };
const PINNED_FROM_CLOUD = /Pinned the server's SSH host key (SHA256:[A-Za-z0-9+/]+),? as the cloud published it\./;

let t: ReturnType<typeof tempHome>;
let sshd: TestSshd;
let gcp: FakeGcp;
let env: NodeJS.ProcessEnv;
let waypointImage: string;

const stackDir = (stack: string) => join(t.home, "stacks", stack);
const state = (stack: string) => JSON.parse(readFileSync(join(stackDir(stack), "state.json"), "utf8"));
const up = (stack: string, ...extra: string[]) =>
  runCli(
    ["up-server", "--provider", "gcp", "--name", stack, "--project", PROJECT, "--region", REGION, "--allow-cidr", "127.0.0.1/32", "--waypoint-image", waypointImage, "--json", ...extra],
    env,
  );
const teardown = (stack: string) => runCli(["teardown", "--name", stack, "--yes", "--skip-final-snapshot", "--json"], env);

/** "ssh-ed25519 AAAA... comment" → its base64 blob. */
const blobOf = (line: string) => line.trim().split(/\s+/)[1]!;
/** OpenSSH's SHA256 fingerprint of a base64 key blob (what `ssh-keygen -lf` prints). */
const fingerprintOfBlob = (b64: string) => `SHA256:${createHash("sha256").update(Buffer.from(b64, "base64")).digest("base64").replace(/=+$/, "")}`;

/** A stack whose SSH key is the one the test sshd authorises (Pilot keeps an existing key). */
function seedStackKey(stack: string): void {
  mkdirSync(stackDir(stack), { recursive: true, mode: 0o700 });
  copyFileSync(sshd.privateKeyPath, join(stackDir(stack), "id_ed25519"));
}

/** Keys of the bootstrap events (`bootstrap:<step>`) the run emitted, in order. */
function bootstrapKeys(r: CliResult): string[] {
  return (r.json?.events ?? []).filter((e: { key?: string }) => e.key?.startsWith("bootstrap:")).map((e: { key: string }) => e.key);
}

/**
 * Counts the SSH sessions (each command Pilot runs) the test user opens on
 * this test's sshd: OpenSSH runs ~/.ssh/rc before every session's command,
 * and this one appends $SSH_CONNECTION ("client port server port") to a log.
 * A connection refused at the host key check never gets that far.
 */
const sessionLog = { dir: "", file: "", rc: "", createdSshDir: false, createdRc: false };
function installSessionCounter(): void {
  const home = execFileSync("sh", ["-c", `getent passwd ${TEST_USER} | cut -d: -f6`], { encoding: "utf8" }).trim();
  const uid = Number(execFileSync("id", ["-u", TEST_USER], { encoding: "utf8" }).trim());
  const gid = Number(execFileSync("id", ["-g", TEST_USER], { encoding: "utf8" }).trim());
  sessionLog.dir = mkdtempSync(join(tmpdir(), "pilot-e2e-gcp-sessions-"));
  chmodSync(sessionLog.dir, 0o755);
  sessionLog.file = join(sessionLog.dir, "sessions.log");
  writeFileSync(sessionLog.file, "");
  chmodSync(sessionLog.file, 0o666);
  const sshDir = join(home, ".ssh");
  if (!existsSync(sshDir)) {
    mkdirSync(sshDir, { mode: 0o700 });
    chownSync(sshDir, uid, gid);
    sessionLog.createdSshDir = true;
  }
  sessionLog.rc = join(sshDir, "rc");
  if (existsSync(sessionLog.rc)) throw new Error(`${sessionLog.rc} exists already; this test needs its own (remove it)`);
  writeFileSync(sessionLog.rc, `echo "$SSH_CONNECTION" >> ${sessionLog.file} 2>/dev/null || true\n`, { mode: 0o644 });
  chownSync(sessionLog.rc, uid, gid);
  sessionLog.createdRc = true;
}
function removeSessionCounter(): void {
  if (sessionLog.createdRc) rmSync(sessionLog.rc, { force: true });
  if (sessionLog.createdSshDir) rmSync(join(sessionLog.rc, ".."), { recursive: true, force: true });
  if (sessionLog.dir) rmSync(sessionLog.dir, { recursive: true, force: true });
}
/** Sessions opened on this test's sshd so far (other tests' sshds log other ports). */
function sessionsOnOurSshd(): number {
  return readFileSync(sessionLog.file, "utf8")
    .split("\n")
    .filter((l) => l.trim().split(/\s+/)[3] === String(sshd.port)).length;
}

/** Everything the fake holds (every project): only what these tests made. */
function inventory() {
  return gcp.control.inventory();
}

/** Members of the project's IAM policy that mention `text`. */
function policyMembersMatching(text: string): string[] {
  const policy = gcp.control.world.crm.policies.get(PROJECT);
  return (policy?.bindings ?? []).flatMap((b) => ((b.members ?? []) as string[]).filter((m) => m.includes(text)));
}

beforeAll(async () => {
  requireDocker();
  waypointImage = realWaypointImage();
  sshd = await startSshd();
  installSessionCounter();
  gcp = await startFakeGcp({ project: PROJECT });
  // Pilot checks every API it needs; the fake starts with only its own seven enabled.
  gcp.control.enableApi("artifactregistry.googleapis.com");
  gcp.control.enableApi("run.googleapis.com");
  gcp.control.enableApi("secretmanager.googleapis.com");
  t = tempHome("pilot-e2e-gcp-");
  env = {
    PILOT_HOME: t.home,
    XDG_CONFIG_HOME: join(t.home, "xdg"),
    PILOT_GCP_ENDPOINT: gcp.url,
    PILOT_SSH_TARGET: `${sshd.user}@${sshd.host}:${sshd.port}`,
    PILOT_VM_NAME_SUFFIX: vmSuffix,
    // And its own host ports: 9701/9702 may be another run's (or a local stack's) on this machine.
    PILOT_VM_PORTS: (await freePorts(2)).join(","), // the "VM"'s gRPC and UI ports
  };
});

afterAll(async () => {
  // A real VM takes its containers with it when deleted; this "VM" is the test machine.
  cleanupDocker(VM_DOCKER);
  rmSync(VM.remoteDir, { recursive: true, force: true });
  removeSessionCounter();
  await sshd?.stop();
  await gcp?.close();
  t?.cleanup();
});

describe("pilot up-server --provider gcp, host key pinned from guest attributes, bootstrapped over SSH", () => {
  const stack = `gcp${uniqueSuffix()}`;
  let sshdKey: string;

  beforeAll(() => {
    seedStackKey(stack);
    // The guest agent publishes the key the server really has: the test sshd's.
    sshdKey = blobOf(readFileSync(join(sshd.dir, "host_ed25519.pub"), "utf8"));
    expect(fingerprintOfBlob(sshdKey)).toBe(sshd.fingerprint());
    gcp.control.setGuestHostKeys({ "ssh-ed25519": sshdKey });
  });

  it("creates the stack in the fake, pins the host key the cloud published and bootstraps the server", async () => {
    const r = await up(stack);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json.ok).toBe(true);
    const s = state(stack);
    expect(s.provider).toBe("gcp");
    expect(s.server.hostKeySource).toBe("cloud");
    expect(s.server.hostKeyFingerprint).toBe(sshd.fingerprint());
    const pinned = r.stderr.match(PINNED_FROM_CLOUD);
    expect(pinned, r.stderr).not.toBeNull();
    expect(pinned![1]).toBe(sshd.fingerprint());
    expect(r.stderr).not.toMatch(/on first contact/);
    // Pilot read the guest attributes before it connected.
    const reads = gcp.control.requests({ methodId: "compute.instances.getGuestAttributes" });
    expect(reads.length).toBeGreaterThan(0);

    expect(s.secrets.waypointToken).toBeTruthy();
    expect(r.stdout + r.stderr).not.toContain(s.secrets.waypointToken);
    expect(r.stdout + r.stderr).not.toContain(s.secrets.dbPassword);
    expect(inspect(VM.serverContainer, "{{.State.Running}} {{.HostConfig.RestartPolicy.Name}}")).toBe("true unless-stopped");
    expect(inspect(VM.runnerContainer, "{{.State.Running}} {{.HostConfig.Privileged}}")).toBe("true false");
    expect(inspect(VM.serverContainer, "{{.Config.Image}}")).toBe(waypointImage);
    expect(existsSync(VM.remoteDir)).toBe(true);
    // Every step ran over SSH on this sshd (the counter scenario 2 relies on works).
    expect(sessionsOnOurSshd()).toBeGreaterThan(5);
    // known_hosts holds exactly the key the cloud published.
    expect(readFileSync(join(stackDir(stack), "known_hosts"), "utf8")).toBe(`[127.0.0.1]:${sshd.port} ssh-ed25519 ${sshdKey}\n`);

    const inv = inventory();
    const server = inv.filter((i) => i.api === "compute" && i.collection === "instances");
    expect(server.map((i) => i.name)).toEqual([s.resources.server.out.name]);
    expect(server[0]!.labels).toMatchObject({ "pilot-stack": stack });
    expect(inv.filter((i) => i.api === "sqladmin" && i.collection === "instances")).toHaveLength(1);
  });

  it("a re-run of the healthy stack changes no infrastructure and the bootstrap only checks", async () => {
    const before = state(stack);
    const readsBefore = gcp.control.requests({ methodId: "compute.instances.getGuestAttributes" }).length;
    const seqBefore = gcp.control.requests().at(-1)?.seq ?? 0;
    const r = await up(stack);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json.plan.length).toBeGreaterThan(0);
    expect(r.json.plan.filter((c: { action: string }) => c.action !== "keep")).toEqual([]);
    const applied = r.json.events.filter((e: { type: string; action?: string }) => e.type === "done" && e.action !== "check" && e.action !== "keep");
    expect(applied).toEqual([]);
    expect(bootstrapKeys(r).length).toBeGreaterThan(2);
    expect(r.json.events.filter((e: { type: string }) => e.type === "failed")).toEqual([]);
    const after = state(stack);
    const ids = (s: any) => Object.fromEntries(Object.entries(s.resources).map(([k, v]: [string, any]) => [k, v.id]));
    expect(ids(after)).toEqual(ids(before));
    expect(after.secrets.waypointToken).toBe(before.secrets.waypointToken);
    expect(after.server).toMatchObject({ hostKeySource: "cloud", hostKeyFingerprint: sshd.fingerprint() });
    // The key is pinned already: no second look-up, no second "Pinned" line.
    expect(gcp.control.requests({ methodId: "compute.instances.getGuestAttributes" }).length).toBe(readsBefore);
    expect(r.stderr).not.toMatch(/Pinned the server's SSH host key/);
    // No call that changes anything reached the fake (reads, and getIamPolicy which is a POST, only).
    const writes = gcp.control
      .requests({ since: seqBefore })
      .filter((q) => q.httpMethod !== "GET" && !/\.getIamPolicy$/.test(q.methodId ?? ""))
      .map((q) => `${q.httpMethod} ${q.methodId ?? q.path}`);
    expect(writes).toEqual([]);
  });

  it("status reports the resources and a healthy server and runner", async () => {
    const r = await runCli(["status", "--name", stack, "--json"], env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json.server).toMatchObject({ ok: true, server: "running, answering", runner: "running" });
  });

  it("teardown removes every resource from the fake", async () => {
    const s = state(stack);
    const before = inventory();
    expect(before.filter((i) => i.collection === "instances")).toHaveLength(2); // the VM and the Cloud SQL instance
    expect(before.filter((i) => i.api === "iam")).toHaveLength(2); // the server's account and the apps' account
    expect(policyMembersMatching(s.resources["sa-server"].out.email).length).toBeGreaterThan(0);
    const r = await teardown(stack);
    expect(r.code, r.stderr).toBe(0);
    const left = inventory();
    expect(left, JSON.stringify(left, null, 2)).toEqual([]);
    expect(policyMembersMatching(s.resources["sa-server"].out.email)).toEqual([]);
    expect(existsSync(join(stackDir(stack), "state.json"))).toBe(false);
    // The VM is gone, and with it (on a real one) its containers: here the test machine removes them.
    cleanupDocker(VM_DOCKER);
    rmSync(VM.remoteDir, { recursive: true, force: true });
    expect(inspect(VM.serverContainer, "{{.Id}}")).toBeUndefined();
    expect(inspect(VM.runnerContainer, "{{.Id}}")).toBeUndefined();
  });
});

describe("pilot up-server --provider gcp, the server presents another key than the cloud published", () => {
  const stack = `gcp${uniqueSuffix()}`;
  let publishedFingerprint: string;

  beforeAll(() => {
    seedStackKey(stack);
    // The guest agent publishes a key the test sshd does not have: someone else answers on the address.
    const other = ssh2.utils.generateKeyPairSync("ed25519", { comment: "not-the-server" });
    const blob = blobOf(other.public);
    publishedFingerprint = fingerprintOfBlob(blob);
    expect(publishedFingerprint).not.toBe(sshd.fingerprint());
    gcp.control.setGuestHostKeys({ "ssh-ed25519": blob });
    // Nothing of the first stack's server is left to mistake for this one's.
    expect(inspect(VM.serverContainer, "{{.Id}}")).toBeUndefined();
    expect(inspect(VM.runnerContainer, "{{.Id}}")).toBeUndefined();
    expect(existsSync(VM.remoteDir)).toBe(false);
  });

  it("refuses to connect: exit 1, the mismatch named, nothing run over SSH, the cloud's key pinned", async () => {
    const sessionsBefore = sessionsOnOurSshd();
    const r = await up(stack);
    expect(r.code, r.stderr).toBe(1);
    expect(r.json?.ok).toBe(false);
    expect(r.json.error.message).toMatch(/is not the one the cloud published for the server/);
    expect(r.json.error.message).toContain(publishedFingerprint);
    expect(r.json.error.message).toContain(sshd.fingerprint());
    expect(r.stderr).toMatch(/is not the one the cloud published for the server/);
    const pinned = r.stderr.match(PINNED_FROM_CLOUD);
    expect(pinned, r.stderr).not.toBeNull();
    expect(pinned![1]).toBe(publishedFingerprint);

    // The infrastructure was made; the bootstrap stopped at the connection.
    const s = state(stack);
    expect(s.server).toMatchObject({ hostKeySource: "cloud", hostKeyFingerprint: publishedFingerprint });
    expect(s.server.bootstrappedAt).toBeUndefined();
    expect(s.secrets.waypointToken).toBeUndefined();
    expect(s.resources.server.status).toBe("created");
    // Nothing ran over SSH: no session opened, no file written, nothing made in Docker.
    expect(sessionsOnOurSshd()).toBe(sessionsBefore);
    expect(existsSync(join(stackDir(stack), "known_hosts"))).toBe(false);
    expect(existsSync(VM.remoteDir)).toBe(false);
    expect(inspect(VM.serverContainer, "{{.Id}}")).toBeUndefined();
    expect(inspect(VM.runnerContainer, "{{.Id}}")).toBeUndefined();
    expect(inspect(VM.network, "{{.Id}}")).toBeUndefined(); // the server's Docker network
  });

  it("a second run refuses again, still without connecting", async () => {
    const sessionsBefore = sessionsOnOurSshd();
    const r = await up(stack);
    expect(r.code, r.stderr).toBe(1);
    expect(r.json.error.message).toMatch(/is not the one the cloud published for the server/);
    expect(state(stack).server).toMatchObject({ hostKeySource: "cloud", hostKeyFingerprint: publishedFingerprint });
    expect(sessionsOnOurSshd()).toBe(sessionsBefore);
    expect(inspect(VM.serverContainer, "{{.Id}}")).toBeUndefined();
  });

  it("teardown removes every resource from the fake", async () => {
    expect(inventory().filter((i) => i.api === "compute" && i.collection === "instances")).toHaveLength(1);
    const r = await teardown(stack);
    expect(r.code, r.stderr).toBe(0);
    const left = inventory();
    expect(left, JSON.stringify(left, null, 2)).toEqual([]);
    expect(inspect(VM.serverContainer, "{{.Id}}")).toBeUndefined();
  });
});

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { bootstrapServer, certificateNames, RecordingExecutor, stepContext, type BootstrapOptions } from "../../../src/bootstrap/index.js";
import { runnerConfigHash, serverConfigHash } from "../../../src/bootstrap/steps/index.js";
import { ensureStackTls } from "../../../src/tls/index.js";
import { PilotError } from "../../../src/errors.js";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "pilot-bootstrap-unit-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function opts(exec: RecordingExecutor, over: Partial<BootstrapOptions> = {}): BootstrapOptions & { saved: string[] } {
  const saved: string[] = [];
  return {
    exec,
    target: "vm",
    serverAddresses: ["203.0.113.10"],
    tlsDir: join(dir, "tls"),
    waypointImage: "hashicorp/waypoint:0.11.4",
    token: undefined,
    saveToken: async (t) => {
      saved.push(t);
    },
    emit: () => {},
    sleep: async () => {},
    saved,
    ...over,
  };
}

/** The stack's TLS material for these options, and the config hashes the server's containers would carry. */
async function desired(o: BootstrapOptions) {
  const tls = await ensureStackTls(o.tlsDir, certificateNames(o));
  const ctx = stepContext(o, { caPem: tls.caPem, certPem: tls.certPem, keyPem: tls.keyPem });
  return { tls, serverHash: serverConfigHash(ctx), runnerHash: runnerConfigHash(ctx) };
}

describe("bootstrapServer orchestration (recording executor)", () => {
  it("saves the token at once and never passes it in argv", async () => {
    const exec = new RecordingExecutor([
      { match: "server bootstrap", result: { stdout: "tok-fresh\n" } },
    ]);
    // Make content/label checks pass by answering them as the server would.
    const o = opts(exec);
    const { tls, serverHash, runnerHash } = await desired(o);
    exec.respond(
      { match: "cat /etc/pilot/tls/ca.pem", result: { stdout: tls.caPem } },
      { match: "cat /etc/pilot/tls/server.pem", result: { stdout: tls.certPem } },
      { match: "cat /etc/pilot/tls/server-key.pem", result: { stdout: tls.keyPem } },
      { match: "cat /etc/pilot/ca/ca.pem", result: { stdout: tls.caPem } },
      { match: "' waypoint-server", result: { stdout: `true ${serverHash}` } },
      { match: "' waypoint-runner", result: { stdout: `true ${runnerHash}` } },
    );
    const res = await bootstrapServer(o);
    expect(o.saved).toEqual(["tok-fresh"]);
    expect(res.applied).toEqual(["bootstrap-token"]);
    expect(exec.lines().join("\n")).not.toContain("tok-fresh");
    // Later steps use the fresh token (on stdin).
    const adoptCheck = exec.recorded.find((r) => r.kind === "run" && r.line.includes("runner inspect"));
    expect(adoptCheck && adoptCheck.kind === "run" ? adoptCheck.stdin : "").toBe("tok-fresh\n");
    // No login token was minted: the runner container was already right.
    expect(exec.lines().some((l) => l.includes("user token"))).toBe(false);
  });

  it("a runner to (re)create gets a freshly minted login token without expiry, on stdin only", async () => {
    const exec = new RecordingExecutor([{ match: "user token", result: { stdout: "login-tok-42\n" } }]);
    const o = opts(exec, { token: "tok-known" });
    const { tls, serverHash, runnerHash } = await desired(o);
    exec.respond(
      { match: "' waypoint-runner", result: { code: 1 }, times: 1 }, // missing: to be created
      { match: "' waypoint-runner", result: { stdout: `true ${runnerHash}` } }, // after the re-create
      { match: /cat \S+\/ca\.pem$/, result: { stdout: tls.caPem } },
      { match: "cat /etc/pilot/tls/server.pem", result: { stdout: tls.certPem } },
      { match: "cat /etc/pilot/tls/server-key.pem", result: { stdout: tls.keyPem } },
      { match: "' waypoint-server", result: { stdout: `true ${serverHash}` } },
    );
    const res = await bootstrapServer(o);
    expect(res.applied).toContain("runner");
    const mint = exec.recorded.find((r) => r.kind === "run" && r.line.includes("user token"));
    expect(mint && mint.kind === "run" ? [mint.argv.slice(-3), mint.stdin] : []).toEqual([["user", "token", "-expires-in=0s"], "tok-known\n"]);
    const run = exec.recorded.find((r) => r.kind === "run" && r.line.includes("docker run") && r.line.includes("runner agent"));
    expect(run && run.kind === "run" ? run.stdin : "").toBe("WAYPOINT_SERVER_TOKEN=login-tok-42\n");
    expect(exec.lines().join("\n")).not.toContain("login-tok-42");
  });

  it("with registry auth (GCP): the Docker config and helper are written before the runner, which mounts them", async () => {
    const exec = new RecordingExecutor([{ match: "user token", result: { stdout: "login-tok-7\n" } }]);
    const o = opts(exec, { token: "tok-known", registryAuth: { helper: "gce-metadata", hosts: ["europe-west1-docker.pkg.dev"] } });
    const { tls, serverHash, runnerHash } = await desired(o);
    const { GCE_CREDENTIAL_HELPER_SCRIPT, runnerDockerConfig } = await import("../../../src/bootstrap/steps/index.js");
    exec.respond(
      // Missing at first (checks stop at the first that fails), written by the apply (the recheck reads them back).
      { match: "cat /etc/pilot/docker/config.json", result: { code: 1 }, times: 1 },
      { match: "cat /etc/pilot/docker/config.json", result: { stdout: runnerDockerConfig(o.registryAuth!) } },
      { match: "/etc/pilot/docker/docker-credential-pilot-gce", result: { stdout: GCE_CREDENTIAL_HELPER_SCRIPT } },
      { match: "' waypoint-runner", result: { code: 1 }, times: 1 }, // a runner of the old config: re-created
      { match: "' waypoint-runner", result: { stdout: `true ${runnerHash}` } },
      { match: /cat \S+\/ca\.pem$/, result: { stdout: tls.caPem } },
      { match: "cat /etc/pilot/tls/server.pem", result: { stdout: tls.certPem } },
      { match: "cat /etc/pilot/tls/server-key.pem", result: { stdout: tls.keyPem } },
      { match: "' waypoint-server", result: { stdout: `true ${serverHash}` } },
    );
    const res = await bootstrapServer(o);
    expect(res.applied.filter((n) => n === "registry-auth" || n === "runner")).toEqual(["registry-auth", "runner"]);
    const l = exec.lines();
    const uploaded = l.findIndex((x) => x.startsWith("upload /etc/pilot/docker/docker-credential-pilot-gce (mode 0755"));
    const config = l.findIndex((x) => x.startsWith("upload /etc/pilot/docker/config.json (mode 0644"));
    const started = l.findIndex((x) => x.includes("docker run") && x.includes("runner agent"));
    expect(uploaded).toBeGreaterThan(-1);
    expect(config).toBeGreaterThan(-1);
    expect(started).toBeGreaterThan(Math.max(uploaded, config));
    expect(l[started]).toContain("-e DOCKER_CONFIG=/pilot/docker");
    expect(l[started]).toContain(`pilot.config=${runnerHash}`);
  });

  it("already bootstrapped without a known token: a clear error, nothing saved", async () => {
    const exec = new RecordingExecutor([
      { match: "server bootstrap", result: { code: 1, stderr: "Error bootstrapping the server: server is already bootstrapped" } },
    ]);
    const o = opts(exec, { target: "local" });
    // Pretend every earlier step is done.
    const { tls, serverHash } = await desired(o);
    exec.respond(
      { match: /^cat .*tls\/ca\.pem$/, result: { stdout: tls.caPem } },
      { match: /^cat .*tls\/server\.pem$/, result: { stdout: tls.certPem } },
      { match: /^cat .*tls\/server-key\.pem$/, result: { stdout: tls.keyPem } },
      { match: /^cat .*ca\/ca\.pem$/, result: { stdout: tls.caPem } },
      { match: "' waypoint-server", result: { stdout: `true ${serverHash}` } },
    );
    const err = await bootstrapServer(o).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PilotError);
    expect((err as PilotError).message).toMatch(/already bootstrapped, but this stack's state has no token/);
    expect((err as PilotError).hint).toMatch(/only once/);
    expect(o.saved).toEqual([]);
    // local target: no package-manager wait, no Docker install, no sudo.
    expect(exec.lines().some((l) => l.includes("apt-get") || l.includes("fuser") || l.startsWith("sudo"))).toBe(false);
  });

  it("dry run applies nothing and uploads nothing", async () => {
    const exec = new RecordingExecutor([], { code: 1, stdout: "", stderr: "" });
    const res = await bootstrapServer(opts(exec, { dryRun: true }));
    expect(res.skipped).toEqual([]);
    expect(res.applied).toHaveLength(11); // reported as would-apply
    expect(exec.recorded.every((r) => r.kind === "run")).toBe(true);
    expect(exec.lines().some((l) => / (rm|run|create|install) /.test(l) && !l.includes("inspect"))).toBe(false);
  });
});

/**
 * Bootstrap for real: a real sshd on loopback (the "VM" is this machine),
 * its real dockerd, and the real Waypoint 0.11.4 image built locally
 * (`npm run waypoint:build`, via realWaypointImage()). Every
 * step runs as it would on a cloud VM, through `sudo -n` as an unprivileged
 * user, except that the Docker install's check passes because Docker is
 * already there (which is the real check; its apply argv is unit-tested).
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import https from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import tls from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EngineEvent } from "../../../src/engine/types.js";
import {
  bootstrapServer, connectSsh, forgetHostKey, HostKeyMismatchError, knownHostsPath, serverHealth, sshCommandArgs,
  type BootstrapOptions, type SshExecutor,
} from "../../../src/bootstrap/index.js";
import { PilotError } from "../../../src/errors.js";
import { cleanupDocker, docker, inspect, requireDocker, uniqueSuffix } from "../../support/docker.js";
import { freePort, startSshd, type TestSshd } from "../../support/sshd.js";
import { realWaypointImage } from "../../support/waypoint-image.js";

const ALL_STEPS = [
  "package-manager", "docker", "network", "volumes", "tls", "server", "server-ready", "bootstrap-token", "runner",
  "runner-registered", "runner-profile",
];

describe("bootstrap over SSH against a real sshd and dockerd", () => {
  let sshd: TestSshd;
  let stackDir: string;
  let image: string;
  let pinned: string | undefined;
  let token: string | undefined;
  let savedTokens: string[] = [];
  let connections = 0;
  const suffix = uniqueSuffix();
  const names = {
    network: `pilot-e2e-${suffix}`,
    serverContainer: `waypoint-server-${suffix}`,
    runnerContainer: `waypoint-runner-${suffix}`,
    serverVolume: `waypoint-server-${suffix}`,
    runnerVolume: `waypoint-runner-${suffix}`,
    runnerId: `pilot-runner-${suffix}`,
    profileName: `pilot-docker-${suffix}`,
  };
  const remoteDir = `/etc/pilot-e2e-${suffix}`;
  let ports: { grpc: number; http: number; bindHost: string };

  const connect = (extra: { pinnedFingerprint?: string | null } = {}): Promise<SshExecutor> =>
    connectSsh({
      host: sshd.host,
      port: sshd.port,
      username: sshd.user,
      privateKeyPath: sshd.privateKeyPath,
      pinnedFingerprint: extra.pinnedFingerprint === null ? undefined : (extra.pinnedFingerprint ?? pinned),
      knownHostsFile: knownHostsPath(stackDir),
      connectTimeoutMs: 20_000,
      onConnect: () => connections++,
      onFirstContact: async (fp) => {
        pinned = fp;
      },
    });

  const options = (exec: SshExecutor, events: EngineEvent[] = []): BootstrapOptions => ({
    exec,
    target: "vm",
    serverAddresses: ["127.0.0.1"],
    tlsDir: join(stackDir, "tls"),
    waypointImage: image,
    token,
    saveToken: async (t) => {
      savedTokens.push(t);
      token = t;
    },
    emit: (e) => events.push(e),
    names,
    ports,
    remoteDir,
  });

  /** `waypoint ARGS` in the server container, as Pilot runs it: the token on stdin, the stack CA trusted. */
  const withToken = (...args: string[]) => {
    const client = ["exec", "-i", "-e", `WAYPOINT_SERVER_ADDR=localhost:9701`, "-e", "WAYPOINT_SERVER_TLS=true",
      "-e", "WAYPOINT_SERVER_TLS_SKIP_VERIFY=false", "-e", "SSL_CERT_FILE=/pilot/tls/ca.pem"];
    const r = spawnSync("docker", [...client, names.serverContainer, "sh", "-c", 'IFS= read -r WAYPOINT_SERVER_TOKEN; export WAYPOINT_SERVER_TOKEN; exec waypoint "$@"', "waypoint", ...args], { input: `${token}\n`, encoding: "utf8" });
    return { code: r.status, out: (r.stdout + r.stderr).replace(/\s+/g, "") };
  };

  beforeAll(async () => {
    requireDocker();
    image = realWaypointImage();
    sshd = await startSshd();
    stackDir = mkdtempSync(join(tmpdir(), "pilot-e2e-stack-"));
    ports = { grpc: await freePort(), http: await freePort(), bindHost: "127.0.0.1" };
  });

  afterAll(async () => {
    cleanupDocker({
      containers: [names.runnerContainer, names.serverContainer],
      networks: [names.network],
      volumes: [names.serverVolume, names.runnerVolume],
    });
    rmSync(remoteDir, { recursive: true, force: true });
    if (stackDir) rmSync(stackDir, { recursive: true, force: true });
    await sshd?.stop();
  });

  it("bootstraps a fresh server: pins the host key, saves the token once, starts server and runner", async () => {
    const events: EngineEvent[] = [];
    const exec = await connect();
    try {
      const res = await bootstrapServer(options(exec, events));
      // Nothing locks dpkg here and docker answers; waiting (for the server, the runner) is never "applied".
      expect(res.skipped).toEqual(["package-manager", "docker", "server-ready", "runner-registered"]);
      expect(res.applied).toEqual(ALL_STEPS.filter((s) => !res.skipped.includes(s)));
    } finally {
      await exec.close();
    }
    expect(pinned).toBe(sshd.fingerprint());
    expect(readFileSync(knownHostsPath(stackDir), "utf8")).toContain(`[127.0.0.1]:${sshd.port} ssh-ed25519 `);
    expect(savedTokens).toHaveLength(1);
    expect(events.filter((e) => e.type === "done").map((e) => (e as { key: string }).key)).toEqual(
      ALL_STEPS.map((s) => `bootstrap:${s}`),
    );

    // The containers as the security posture wants them.
    expect(inspect(names.serverContainer, "{{.State.Running}} {{.HostConfig.RestartPolicy.Name}}")).toBe("true unless-stopped");
    expect(inspect(names.runnerContainer, "{{.State.Running}} {{.HostConfig.RestartPolicy.Name}} {{.HostConfig.Privileged}}")).toBe(
      "true unless-stopped false",
    );
    expect(inspect(names.runnerContainer, "{{json .HostConfig.PortBindings}}")).toMatch(/^(null|\{\})$/);
    const runnerEnv = inspect(names.runnerContainer, "{{json .Config.Env}}")!;
    expect(runnerEnv).not.toMatch(/AWS_|GOOGLE_|DOCKER_HOST/);
    expect(runnerEnv).toContain("WAYPOINT_SERVER_TLS_SKIP_VERIFY=false");
    // It runs with a login token of its own (so deploys can mint entrypoint invites), given through stdin, not argv.
    expect(runnerEnv).toMatch(/"WAYPOINT_SERVER_TOKEN=[^"]{20,}"/);
    expect(inspect(names.runnerContainer, "{{json .Args}}")).not.toMatch(/TOKEN|cookie/i);
    // Its /data is the named volume: no anonymous volume is left behind when it is re-created.
    const mounts = JSON.parse(inspect(names.runnerContainer, "{{json .Mounts}}")!) as { Type: string; Name?: string; Destination: string }[];
    expect(mounts.filter((m) => m.Type === "volume").map((m) => [m.Name, m.Destination])).toEqual([[names.runnerVolume, "/data"]]);

    // The real server runs with the flags as designed (URL service off, Pilot's certificate, no -accept-tos).
    const serverArgs = JSON.parse(inspect(names.serverContainer, "{{json .Args}}")!) as string[];
    expect(serverArgs).toEqual(expect.arrayContaining(["-url-enabled=false", "-tls-cert-file=/pilot/tls/server.pem"]));
    expect(serverArgs).not.toContain("-accept-tos");
    // The runner is pre-adopted (login token) and the on-demand profile set, not as the default, as the real server reports them.
    expect(withToken("runner", "inspect", "-json", names.runnerId).out).toContain('"adoptionState":"PREADOPTED"');
    const profile = withToken("runner", "profile", "inspect", "-json", names.profileName).out;
    expect(profile).toContain(names.runnerId);
    expect(profile).not.toContain('"default":true');
    expect(profile).toContain('"SSL_CERT_FILE":"/pilot/ca/ca.pem"');
    // The real client verifies the server against the stack's CA: with it `user inspect` succeeds, without it
    // the same call is refused (the real CLI reports the failed TLS handshake only as a dial timeout).
    expect(withToken("user", "inspect").code).toBe(0);
    const noCa = spawnSync("docker", ["exec", "-i", "-e", "WAYPOINT_SERVER_ADDR=localhost:9701", "-e", "WAYPOINT_SERVER_TLS=true",
      "-e", "WAYPOINT_SERVER_TLS_SKIP_VERIFY=false", names.serverContainer, "sh", "-c", 'IFS= read -r WAYPOINT_SERVER_TOKEN; export WAYPOINT_SERVER_TOKEN; exec waypoint "$@"', "waypoint", "user", "inspect"],
      { input: `${token}\n`, encoding: "utf8" });
    expect(noCa.status).not.toBe(0);
    expect(noCa.stdout + noCa.stderr).toMatch(/failed to create client|certificate|x509/i);
    // `server bootstrap` ran with context creation off: no CLI context (holding the token) in the server container.
    expect(docker("exec", names.serverContainer, "sh", "-c", "find / -xdev -path /proc -prune -o -name '*.hcl' -path '*context*' -print 2>/dev/null || true").trim()).toBe("");
    // The token never travelled in argv or a container's configuration.
    expect(inspect(names.serverContainer, "{{json .}}")).not.toContain(token!);
    expect(inspect(names.runnerContainer, "{{json .}}")).not.toContain(token!);
  });

  it("serves a certificate that a real TLS client verifies against the stack's CA, on both ports", async () => {
    const ca = readFileSync(join(stackDir, "tls", "ca.pem"));
    for (const port of [ports.grpc, ports.http]) {
      const authorized = await new Promise<boolean>((resolve, reject) => {
        const s = tls.connect({ host: "127.0.0.1", port, ca }, () => {
          resolve(s.authorized);
          s.end();
        });
        s.once("error", reject);
      });
      expect(authorized).toBe(true);
    }
    const status = await new Promise<number>((resolve, reject) =>
      https.get({ host: "127.0.0.1", port: ports.http, path: "/", ca }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      }).once("error", reject),
    );
    expect(status).toBe(200);
    // Without the stack's CA the same certificate is refused (default verification is on).
    await expect(
      new Promise((resolve, reject) => {
        const s = tls.connect({ host: "127.0.0.1", port: ports.http }, () => resolve(s.authorized));
        s.once("error", reject);
      }),
    ).rejects.toThrow(/self[- ]signed|unable to (get|verify)/i);
  });

  it("an on-demand runner container, as the profile makes it, reaches the server and verifies it; one without the CA is refused", () => {
    const profile = JSON.parse(
      spawnSync("docker", ["exec", "-i", "-e", "WAYPOINT_SERVER_ADDR=localhost:9701", "-e", "WAYPOINT_SERVER_TLS=true",
        "-e", "SSL_CERT_FILE=/pilot/tls/ca.pem", names.serverContainer, "sh", "-c",
        'IFS= read -r WAYPOINT_SERVER_TOKEN; export WAYPOINT_SERVER_TOKEN; exec waypoint "$@"', "waypoint",
        "runner", "profile", "inspect", "-json", names.profileName], { input: `${token}\n`, encoding: "utf8" }).stdout,
    ) as { environmentVariables: Record<string, string>; pluginConfig: string };
    // What Waypoint's Docker task launcher gives the container: the profile's environment, its plugin config's
    // networks, binds and static environment, and the server's advertise address.
    const plugin = JSON.parse(Buffer.from(profile.pluginConfig, "base64").toString()) as {
      networks: string[]; binds: string[]; static_environment: Record<string, string>;
    };
    const env = { ...profile.environmentVariables, ...plugin.static_environment };
    const odr = (withCa: boolean) =>
      spawnSync("docker", [
        "run", "--rm", "-i", "--network", plugin.networks[0]!,
        ...(withCa ? [...plugin.binds.flatMap((b) => ["-v", b]), ...Object.entries(env).flatMap(([k, v]) => ["-e", `${k}=${v}`])] : []),
        "-e", `WAYPOINT_SERVER_ADDR=${names.serverContainer}:9701`, "-e", "WAYPOINT_SERVER_TLS=true",
        "-e", "WAYPOINT_SERVER_TLS_SKIP_VERIFY=false", "--entrypoint", "sh", image, "-c",
        'IFS= read -r WAYPOINT_SERVER_TOKEN; export WAYPOINT_SERVER_TOKEN; exec waypoint user inspect',
      ], { input: `${token}\n`, encoding: "utf8", timeout: 60_000 });
    const ok = odr(true);
    expect(ok.stdout + ok.stderr).not.toMatch(/x509|certificate/i);
    expect(ok.status).toBe(0);
    // The bind is the CA folder alone: no server key reaches a runner or an app.
    expect(plugin.binds).toEqual([`${remoteDir}/ca:/pilot/ca:ro`]);
    const refused = odr(false);
    expect(refused.status).not.toBe(0);
  });

  it("repairs a runner started the old way (cookie, explicit adoption, saved runner token)", async () => {
    // Pilot's earlier runner: joined with the server cookie, adopted, its runner token saved in its state dir.
    const cookie = spawnSync("docker", ["exec", "-i", "-e", "WAYPOINT_SERVER_ADDR=localhost:9701", "-e", "WAYPOINT_SERVER_TLS=true",
      "-e", "SSL_CERT_FILE=/pilot/tls/ca.pem", names.serverContainer, "sh", "-c",
      'IFS= read -r WAYPOINT_SERVER_TOKEN; export WAYPOINT_SERVER_TOKEN; exec waypoint "$@"', "waypoint", "server", "cookie"],
      { input: `${token}\n`, encoding: "utf8" }).stdout.trim();
    expect(cookie).not.toBe("");
    docker("rm", "-f", "-v", names.runnerContainer);
    docker("run", "-d", "--name", names.runnerContainer, "--network", names.network, "--user", "root",
      "-v", "/var/run/docker.sock:/var/run/docker.sock", "-v", `${names.runnerVolume}:/data`, "-v", `${remoteDir}/tls:/pilot/tls:ro`,
      "-e", `WAYPOINT_SERVER_ADDR=${names.serverContainer}:9701`, "-e", "WAYPOINT_SERVER_TLS=true", "-e", "SSL_CERT_FILE=/pilot/tls/ca.pem",
      "-e", `WAYPOINT_SERVER_COOKIE=${cookie}`, "--label", "pilot.config=from-an-earlier-pilot",
      image, "runner", "agent", `-id=${names.runnerId}`, "-state-dir=/data/runner", "-vv");
    for (let i = 0; i < 60 && withToken("runner", "adopt", names.runnerId).code !== 0; i++) await new Promise((r) => setTimeout(r, 1000));
    for (let i = 0; i < 60 && docker("exec", names.runnerContainer, "sh", "-c", "ls /data/runner || true").trim() === ""; i++) {
      await new Promise((r) => setTimeout(r, 1000));
    }
    expect(docker("exec", names.runnerContainer, "sh", "-c", "ls /data/runner").trim()).not.toBe("");

    const exec = await connect();
    try {
      const res = await bootstrapServer(options(exec));
      expect(res.applied).toEqual(["runner"]);
    } finally {
      await exec.close();
    }
    const env = inspect(names.runnerContainer, "{{json .Config.Env}}")!;
    expect(env).toMatch(/WAYPOINT_SERVER_TOKEN=/);
    expect(env).not.toContain("COOKIE");
    // The old saved token is gone (it would take precedence over the login token) and the server knows the runner.
    expect(withToken("runner", "inspect", "-json", names.runnerId).out).toMatch(/"adoptionState":"(PRE)?ADOPTED"/);
    const logs = spawnSync("docker", ["logs", names.runnerContainer], { encoding: "utf8" });
    expect(logs.stdout + logs.stderr).not.toMatch(/Unauthenticated|PermissionDenied/);
  });

  it("re-runs with nothing to apply, over one SSH connection", async () => {
    const before = connections;
    const started = Date.now();
    const exec = await connect();
    try {
      const res = await bootstrapServer(options(exec));
      expect(res.applied).toEqual([]);
      expect(res.skipped).toEqual(ALL_STEPS);
      expect(await serverHealth(exec, { names, remoteDir, httpPort: ports.http, bindHost: "127.0.0.1" })).toEqual({
        server: "running, answering",
        runner: "running",
      });
    } finally {
      await exec.close();
    }
    expect(connections - before).toBe(1);
    expect(savedTokens).toHaveLength(1);
    console.log(`no-op bootstrap re-run: ${Date.now() - started} ms`);
  });

  it("restores containers removed out of band", async () => {
    docker("rm", "-f", names.runnerContainer);
    let exec = await connect();
    try {
      const res = await bootstrapServer(options(exec));
      expect(res.applied).toEqual(["runner"]); // a fresh login token; the server still knows the runner's id
    } finally {
      await exec.close();
    }
    docker("rm", "-f", names.serverContainer);
    exec = await connect();
    try {
      const res = await bootstrapServer(options(exec));
      expect(res.applied).toEqual(["server"]); // data volume kept: still bootstrapped, same token
    } finally {
      await exec.close();
    }
    expect(savedTokens).toHaveLength(1);
  });

  it("reconnects transparently when the connection drops between commands", async () => {
    const exec = await connect();
    try {
      expect((await exec.run(["true"])).code).toBe(0);
      const before = connections;
      sshd.dropConnections();
      await new Promise((r) => setTimeout(r, 300));
      const r = await exec.run(["sh", "-c", "echo still here"]);
      expect(r).toMatchObject({ code: 0, stdout: "still here\n" });
      expect(connections - before).toBe(1);

      // A drop while a command runs fails that command (it may or may not have run) ...
      setTimeout(() => sshd.dropConnections(), 300);
      await expect(exec.run(["sleep", "3"])).rejects.toThrow(/connection lost while running `sleep 3`/);
      // ... and the next command reconnects.
      expect((await exec.run(["true"])).code).toBe(0);
    } finally {
      await exec.close();
    }
  });

  it("completes on a re-run after the connection dropped mid-run", async () => {
    docker("rm", "-f", names.runnerContainer, names.serverContainer); // give the run real work
    const exec = await connect();
    let dropped = false;
    const events: EngineEvent[] = [];
    const opts = options(exec, events);
    opts.emit = (e) => {
      events.push(e);
      // Kill the session while the server step's `docker run` is under way.
      if (!dropped && e.type === "progress" && e.key === "bootstrap:server") {
        dropped = true;
        setTimeout(() => sshd.dropConnections(), 20);
      }
    };
    let firstError: unknown;
    try {
      await bootstrapServer(opts);
    } catch (err) {
      firstError = err;
    } finally {
      await exec.close();
    }
    expect(dropped).toBe(true);
    console.log(`run with a dropped connection: ${firstError ? `failed: ${(firstError as Error).message}` : "completed (reconnected between commands)"}`);
    if (firstError) expect(firstError).toBeInstanceOf(PilotError);

    const again = await connect();
    try {
      await bootstrapServer(options(again));
      const third = await bootstrapServer(options(again));
      expect(third.applied).toEqual([]);
      expect((await serverHealth(again, { names, remoteDir, httpPort: ports.http, bindHost: "127.0.0.1" })).server).toBe(
        "running, answering",
      );
    } finally {
      await again.close();
    }
    expect(savedTokens).toHaveLength(1);
  });

  it("opens a shell with OpenSSH using only the pinned key (pilot server --ssh)", () => {
    const args = sshCommandArgs(sshd.access(), stackDir);
    const r = spawnSync(args[0]!, [...args.slice(1, -1), "-o", "BatchMode=yes", args[args.length - 1]!, "echo", "ok"], {
      encoding: "utf8",
    });
    expect(r.stderr).not.toMatch(/REMOTE HOST IDENTIFICATION HAS CHANGED/);
    expect(r.stdout.trim()).toBe("ok");
  });

  it("refuses a changed host key, naming both fingerprints, until the user accepts it", async () => {
    const old = pinned!;
    await sshd.restart({ newHostKey: true });
    const fresh = sshd.fingerprint();
    expect(fresh).not.toBe(old);

    const err = await connect().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(HostKeyMismatchError);
    expect((err as PilotError).message).toContain(old);
    expect((err as PilotError).message).toContain(fresh);
    expect((err as PilotError).hint).toContain("pilot up-server --accept-new-host-key");

    // OpenSSH with the stack's known_hosts refuses too.
    const args = sshCommandArgs(sshd.access(), stackDir);
    const r = spawnSync(args[0]!, [...args.slice(1, -1), "-o", "BatchMode=yes", args[args.length - 1]!, "true"], { encoding: "utf8" });
    expect(r.status).not.toBe(0);

    // The user accepts the rebuild: forget the pin, the next contact pins the new key.
    const server = { hostKeyFingerprint: old } as { hostKeyFingerprint?: string };
    forgetHostKey(stackDir, server);
    expect(server.hostKeyFingerprint).toBeUndefined();
    expect(existsSync(knownHostsPath(stackDir))).toBe(false);
    const exec = await connect({ pinnedFingerprint: null });
    try {
      expect(pinned).toBe(fresh);
      expect((await exec.run(["true"])).code).toBe(0);
    } finally {
      await exec.close();
    }
  });
});

/**
 * A no-op bootstrap re-run over real SSH: a server bootstrapped once (the
 * test sshd on loopback, this machine's Docker engine, the stand-in Waypoint
 * image), then re-run five times. Reports wall time (connect included), SSH
 * connections and round trips (commands and uploads). Target: under 3 s and
 * one connection.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bootstrapServer, connectSsh, knownHostsPath, type BootstrapOptions, type Executor } from "../src/bootstrap/index.js";
import { buildWaypointImage, cleanupDocker, requireDocker, uniqueSuffix } from "../test/support/docker.js";
import { freePort, startSshd } from "../test/support/sshd.js";

/** Counts what crosses the connection. */
function counting(exec: Executor): Executor & { trips: number } {
  const c = {
    trips: 0,
    run: (argv: string[], o?: Parameters<Executor["run"]>[1]) => (c.trips++, exec.run(argv, o)),
    upload: (p: string, content: string | Buffer, mode: number) => (c.trips++, exec.upload(p, content, mode)),
    close: () => exec.close(),
  };
  return c;
}

export default async function benchBootstrap(runs = 5): Promise<void> {
  requireDocker();
  const image = buildWaypointImage(); // the real Waypoint 0.11.4, built from its Go module
  const sshd = await startSshd();
  const stackDir = mkdtempSync(join(tmpdir(), "pilot-bench-bootstrap-"));
  const s = uniqueSuffix();
  const names = {
    network: `pilot-bench-${s}`, serverContainer: `waypoint-server-bench-${s}`, runnerContainer: `waypoint-runner-bench-${s}`,
    serverVolume: `waypoint-server-bench-${s}`, runnerVolume: `waypoint-runner-bench-${s}`, runnerId: `pilot-runner-${s}`, profileName: `pilot-docker-${s}`,
  };
  const remoteDir = `/etc/pilot-bench-${s}`;
  const ports = { grpc: await freePort(), http: await freePort(), bindHost: "127.0.0.1" };
  let pinned: string | undefined;
  let token: string | undefined;
  let connections = 0;
  const once = async () => {
    const started = performance.now();
    const ssh = await connectSsh({
      host: sshd.host, port: sshd.port, username: sshd.user, privateKeyPath: sshd.privateKeyPath,
      pinnedFingerprint: pinned, knownHostsFile: knownHostsPath(stackDir),
      onConnect: () => connections++,
      onFirstContact: async (fp) => {
        pinned = fp;
      },
    });
    const exec = counting(ssh);
    try {
      const opts: BootstrapOptions = {
        exec, target: "vm", serverAddresses: ["127.0.0.1"], tlsDir: join(stackDir, "tls"), waypointImage: image,
        token, saveToken: async (t) => void (token = t), emit: () => {}, names, ports, remoteDir,
      };
      const result = await bootstrapServer(opts);
      return { ms: performance.now() - started, trips: exec.trips, applied: result.applied.length };
    } finally {
      await exec.close();
    }
  };
  try {
    const first = await once();
    const rerun: { ms: number; trips: number; connections: number }[] = [];
    for (let i = 0; i < runs; i++) {
      const before = connections;
      const r = await once();
      if (r.applied !== 0) throw new Error(`a no-op re-run applied ${r.applied} step(s)`);
      rerun.push({ ms: r.ms, trips: r.trips, connections: connections - before });
    }
    const ms = rerun.map((r) => r.ms).sort((a, b) => a - b);
    console.log(
      `bootstrap: first bootstrap ${first.ms.toFixed(0)} ms (${first.trips} round trips); no-op re-run median ${ms[Math.floor(runs / 2)].toFixed(0)} ms ` +
        `(min ${ms[0].toFixed(0)}, max ${ms[runs - 1].toFixed(0)}), ${rerun[0].trips} SSH round trips, ${Math.max(...rerun.map((r) => r.connections))} connection(s) per run (target < 3000 ms, 1 connection)`,
    );
  } finally {
    cleanupDocker({ containers: [names.runnerContainer, names.serverContainer], networks: [names.network], volumes: [names.serverVolume, names.runnerVolume] });
    rmSync(remoteDir, { recursive: true, force: true });
    rmSync(stackDir, { recursive: true, force: true });
    await sshd.stop();
  }
}

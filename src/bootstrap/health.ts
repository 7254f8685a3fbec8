import { DEFAULT_NAMES, asRoot, docker, localProbeHost, tlsDir, type BootstrapNames, type StepContext } from "./steps/context.js";
import type { Executor } from "./types.js";

/** Where to look; defaults match a VM bootstrapped with default options. */
export interface HealthOptions {
  sudo?: boolean;
  names?: Partial<BootstrapNames>;
  remoteDir?: string;
  /** Host port of the server's HTTP/UI (default 9702) and its bind address. */
  httpPort?: number;
  bindHost?: string;
}

async function containerState(exec: Executor, argv: string[]): Promise<string> {
  const r = await exec.run(argv, { timeoutMs: 30_000 });
  if (r.code !== 0) return "missing";
  return r.stdout.trim() || "unknown";
}

/**
 * The server's and the runner's container states (Docker's words: running,
 * restarting, exited, ...; "missing" if there is none), and for a running
 * server whether it answers HTTPS verified by the stack's CA:
 * `running, answering` / `running, not answering`.
 */
export async function serverHealth(exec: Executor, o: HealthOptions = {}): Promise<{ server: string; runner: string }> {
  const ctx = {
    sudo: o.sudo ?? true,
    names: { ...DEFAULT_NAMES, ...o.names },
    remoteDir: o.remoteDir ?? "/etc/pilot",
    ports: { grpc: 9701, http: o.httpPort ?? 9702, bindHost: o.bindHost },
  } as StepContext;
  const fmt = "{{.State.Status}}";
  let server = await containerState(exec, docker(ctx, "inspect", "--format", fmt, ctx.names.serverContainer));
  const runner = await containerState(exec, docker(ctx, "inspect", "--format", fmt, ctx.names.runnerContainer));
  if (server === "running") {
    const probe = await exec.run(
      asRoot(ctx, "curl", "-sS", "-o", "/dev/null", "--max-time", "5", "--cacert", `${tlsDir(ctx)}/ca.pem`,
        `https://${localProbeHost(ctx)}:${ctx.ports.http}/`),
      { timeoutMs: 10_000 },
    );
    server = probe.code === 0 ? "running, answering" : "running, not answering";
  }
  return { server, runner };
}

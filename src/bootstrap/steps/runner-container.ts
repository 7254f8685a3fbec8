import { CONTAINER_TLS_DIR, GRPC_PORT, cmd, configHash, docker, sha256, tlsDir, type StepContext } from "./context.js";
import type { Step } from "../types.js";

/** `waypoint runner agent` with a fixed id (so adoption can name it) and its state on a volume (so a restart keeps the adoption). */
export function runnerArgs(ctx: StepContext): string[] {
  return ["runner", "agent", `-id=${ctx.names.runnerId}`, "-state-dir=/data/runner", "-vv"];
}

/**
 * Security choices, against Waypoint's own installer which runs the runner
 * `Privileged` with seccomp/apparmor unconfined:
 * - NOT privileged: it builds and runs app containers through the host's
 *   Docker socket, which is all it needs;
 * - `--user root` only to open that socket (root:docker 0660 on the host);
 * - no Docker API on TCP: the socket is mounted, nothing is published;
 * - no cloud credentials passed in: the runner uses the VM's own identity
 *   (instance profile / service account) through the metadata service.
 */
function runOptions(ctx: StepContext): string[] {
  const n = ctx.names;
  return [
    "--name", n.runnerContainer,
    "--restart", "unless-stopped",
    "--network", n.network,
    "--user", "root",
    "-v", "/var/run/docker.sock:/var/run/docker.sock",
    "-v", `${n.runnerVolume}:/data/runner`,
    "-v", `${tlsDir(ctx)}:${CONTAINER_TLS_DIR}:ro`,
    "-e", `WAYPOINT_SERVER_ADDR=${n.serverContainer}:${GRPC_PORT}`,
    "-e", "WAYPOINT_SERVER_TLS=true",
    "-e", "WAYPOINT_SERVER_TLS_SKIP_VERIFY=false",
    "-e", `SSL_CERT_FILE=${CONTAINER_TLS_DIR}/ca.pem`,
    "--label", "pilot.role=runner",
  ];
}

export function runnerConfigHash(ctx: StepContext): string {
  return configHash([runOptions(ctx), ctx.runnerImage, runnerArgs(ctx), sha256(ctx.tls.caPem)]);
}

/**
 * The runner container. Its apply needs the server's cookie (required for a
 * runner that will be adopted); the orchestrator fetches it only when apply
 * runs. The cookie goes in through `--env-file /dev/stdin`, read by the
 * docker CLI, so it never appears in argv.
 */
export function startRunner(ctx: StepContext, cookie: string): Step {
  const name = ctx.names.runnerContainer;
  const hash = runnerConfigHash(ctx);
  return {
    name: "runner",
    description: `start the Waypoint runner container ${name} (${ctx.runnerImage})`,
    check: [
      cmd(docker(ctx, "inspect", "--format", '{{.State.Running}} {{index .Config.Labels "pilot.config"}}', name), {
        expect: { stdout: `true ${hash}` },
      }),
    ],
    apply: [
      // -v: the image declares VOLUME /data, so each container gets an anonymous volume where no named one is
      // mounted; remove it with its container (named volumes stay) so re-creating one leaks nothing.
      cmd(docker(ctx, "rm", "-f", "-v", name)),
      cmd(
        docker(ctx, "run", "-d", ...runOptions(ctx), "--env-file", "/dev/stdin", "--label", `pilot.config=${hash}`,
          ctx.runnerImage, ...runnerArgs(ctx)),
        { stdin: `WAYPOINT_SERVER_COOKIE=${cookie}\n`, timeoutMs: 10 * 60_000 },
      ),
    ],
  };
}

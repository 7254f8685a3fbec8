import { CONTAINER_TLS_DIR, GRPC_PORT, cmd, configHash, docker, sha256, tlsDir, type StepContext } from "./context.js";
import { hasRegistryAuth, registryAuthDigest, registryAuthRunOptions } from "./registry-credentials.js";
import type { Step } from "../types.js";

/**
 * `waypoint runner agent` with a fixed id (so status and the runner profile
 * can name it) and its state dir on the runner's named volume.
 */
export function runnerArgs(ctx: StepContext): string[] {
  return ["runner", "agent", `-id=${ctx.names.runnerId}`, "-state-dir=/data/runner", "-vv"];
}

/**
 * How the runner authenticates: with a login token of the bootstrap user,
 * as Waypoint's own installer starts its runner (internal/cli/install.go,
 * internal/runnerinstall/docker.go). The server treats such a runner as
 * pre-adopted, and — unlike a runner that joined by cookie and adoption,
 * which holds a runner token with no user — it can ask for the invite token
 * every deploy needs for the app's entrypoint (internal/core/app_deploy.go).
 * Part of the config hash, so a runner started the old way is re-created.
 */
const RUNNER_AUTH = "login-token";

/**
 * Security choices, against Waypoint's own installer which runs the runner
 * `Privileged` with seccomp/apparmor unconfined:
 * - NOT privileged: it builds and runs app containers through the host's
 *   Docker socket, which is all it needs;
 * - `--user root` only to open that socket (root:docker 0660 on the host);
 * - no Docker API on TCP: the socket is mounted, nothing is published;
 * - no cloud credentials passed in: the runner uses the VM's own identity
 *   (instance profile / service account) through the metadata service;
 * - its token goes in through `--env-file /dev/stdin`, never argv (it is in
 *   the container's environment, which only root on the host can inspect).
 * `/data` (a VOLUME in the image) is the runner's named, labelled volume, so
 * no anonymous volume is left behind by a re-created runner.
 * With registry auth (GCP), the Docker config naming Pilot's credential
 * helper and the helper itself, read-only (./registry-credentials.ts).
 */
function runOptions(ctx: StepContext): string[] {
  const n = ctx.names;
  return [
    "--name", n.runnerContainer,
    "--restart", "unless-stopped",
    "--network", n.network,
    "--user", "root",
    "-v", "/var/run/docker.sock:/var/run/docker.sock",
    "-v", `${n.runnerVolume}:/data`,
    "-v", `${tlsDir(ctx)}:${CONTAINER_TLS_DIR}:ro`,
    "-e", `WAYPOINT_SERVER_ADDR=${n.serverContainer}:${GRPC_PORT}`,
    "-e", "WAYPOINT_SERVER_TLS=true",
    "-e", "WAYPOINT_SERVER_TLS_SKIP_VERIFY=false",
    "-e", `SSL_CERT_FILE=${CONTAINER_TLS_DIR}/ca.pem`,
    ...registryAuthRunOptions(ctx),
    "--label", "pilot.role=runner",
  ];
}

/** The runner's desired configuration; the registry files' digests only where there are any, so other stacks' runners keep their hash. */
export function runnerConfigHash(ctx: StepContext): string {
  const parts: unknown[] = [runOptions(ctx), ctx.runnerImage, runnerArgs(ctx), sha256(ctx.tls.caPem), RUNNER_AUTH];
  if (hasRegistryAuth(ctx)) parts.push(registryAuthDigest(ctx));
  return configHash(parts);
}

/**
 * The runner container. Its apply needs a fresh login token; the
 * orchestrator mints one only when apply runs. Re-creating it also empties
 * its volume: a token the runner saved earlier (an adoption, the old way)
 * takes precedence over the one it is given, so it must go.
 */
export function startRunner(ctx: StepContext, loginToken: string): Step {
  const { runnerContainer: name, runnerVolume } = ctx.names;
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
      // -v: a runner created before it had a named /data left an anonymous volume; remove it with the container.
      cmd(docker(ctx, "rm", "-f", "-v", name)),
      cmd(docker(ctx, "volume", "rm", "-f", runnerVolume)),
      cmd(docker(ctx, "volume", "create", "--label", "pilot.managed=true", runnerVolume)),
      cmd(
        docker(ctx, "run", "-d", ...runOptions(ctx), "--env-file", "/dev/stdin", "--label", `pilot.config=${hash}`,
          ctx.runnerImage, ...runnerArgs(ctx)),
        { stdin: `WAYPOINT_SERVER_TOKEN=${loginToken}\n`, timeoutMs: 10 * 60_000 },
      ),
    ],
  };
}

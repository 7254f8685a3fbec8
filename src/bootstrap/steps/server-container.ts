import {
  CONTAINER_TLS_DIR, GRPC_PORT, HTTP_PORT, cmd, configHash, docker, publish, sha256, tlsDir, type StepContext,
} from "./context.js";
import type { Step } from "../types.js";

/**
 * `waypoint server run` as Waypoint's own Docker installer runs it
 * (internal/serverinstall/docker.go: -db=/data/data.db, -listen-grpc/
 * -listen-http on 0.0.0.0), plus what Pilot insists on: the URL service off,
 * Pilot's certificate instead of a self-signed one, and an advertise address
 * the runner verifies (the container name is a SAN). No -accept-tos: it is
 * only required when the URL service is on.
 */
export function serverArgs(ctx: StepContext): string[] {
  return [
    "server", "run",
    "-db=/data/data.db",
    `-listen-grpc=0.0.0.0:${GRPC_PORT}`,
    `-listen-http=0.0.0.0:${HTTP_PORT}`,
    "-url-enabled=false",
    `-tls-cert-file=${CONTAINER_TLS_DIR}/server.pem`,
    `-tls-key-file=${CONTAINER_TLS_DIR}/server-key.pem`,
    `-advertise-addr=${ctx.names.serverContainer}:${GRPC_PORT}`,
    "-advertise-tls=true",
    "-advertise-tls-skip-verify=false",
  ];
}

/** The `docker run` options, without the config label (which hashes them). */
function runOptions(ctx: StepContext): string[] {
  const n = ctx.names;
  return [
    "--name", n.serverContainer,
    "--restart", "unless-stopped",
    "--network", n.network,
    "-p", publish(ctx, ctx.ports.grpc, GRPC_PORT),
    "-p", publish(ctx, ctx.ports.http, HTTP_PORT),
    "-v", `${n.serverVolume}:/data`,
    "-v", `${tlsDir(ctx)}:${CONTAINER_TLS_DIR}:ro`,
    "--label", "pilot.role=server",
  ];
}

/** The server container's config hash: options, image, args and the certificate it serves. */
export function serverConfigHash(ctx: StepContext): string {
  return configHash([runOptions(ctx), ctx.waypointImage, serverArgs(ctx), sha256(ctx.tls.certPem), sha256(ctx.tls.caPem)]);
}

/**
 * The Waypoint server container, running with the desired configuration.
 * Any difference (missing, stopped, other image, new certificate) re-creates
 * it; its data lives in the volume, so that is safe.
 */
export function startServer(ctx: StepContext): Step {
  const name = ctx.names.serverContainer;
  const hash = serverConfigHash(ctx);
  return {
    name: "server",
    description: `start the Waypoint server container ${name} (${ctx.waypointImage})`,
    check: [
      cmd(docker(ctx, "inspect", "--format", '{{.State.Running}} {{index .Config.Labels "pilot.config"}}', name), {
        expect: { stdout: `true ${hash}` },
      }),
    ],
    apply: [
      // -v: the image declares VOLUME /data, so each container gets an anonymous volume where no named one is
      // mounted; remove it with its container (named volumes stay) so re-creating one leaks nothing.
      cmd(docker(ctx, "rm", "-f", "-v", name)),
      cmd(docker(ctx, "run", "-d", ...runOptions(ctx), "--label", `pilot.config=${hash}`, ctx.waypointImage, ...serverArgs(ctx)), {
        timeoutMs: 10 * 60_000, // may pull the image
      }),
    ],
  };
}

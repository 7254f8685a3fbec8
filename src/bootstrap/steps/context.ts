import { createHash } from "node:crypto";
import type { Command } from "../types.js";
import type { RegistryAuth } from "./registry-credentials.js";

/** Names of everything bootstrap creates on the Docker engine; overridable so tests can run side by side. */
export interface BootstrapNames {
  network: string;
  serverContainer: string;
  runnerContainer: string;
  serverVolume: string;
  runnerVolume: string;
  /** The static runner's id, fixed so adoption survives container re-creation. */
  runnerId: string;
  /** The on-demand runner profile's name. */
  profileName: string;
}

export const DEFAULT_NAMES: BootstrapNames = {
  network: "pilot",
  serverContainer: "waypoint-server",
  runnerContainer: "waypoint-runner",
  serverVolume: "waypoint-server",
  runnerVolume: "waypoint-runner",
  runnerId: "pilot-runner",
  profileName: "pilot-docker",
};

/** Waypoint's own ports inside the container (serverconfig.DefaultGRPCPort / DefaultHTTPPort). */
export const GRPC_PORT = 9701;
export const HTTP_PORT = 9702;

/** Where the TLS folder is mounted inside the server and runner containers. */
export const CONTAINER_TLS_DIR = "/pilot/tls";

/**
 * Where the CA folder (the stack CA's certificate alone) is mounted in
 * containers that only need to trust the server: on-demand runners and the
 * team's apps. Never the TLS folder, which also holds the server's key.
 */
export const CONTAINER_CA_DIR = "/pilot/ca";
export const CONTAINER_CA_FILE = `${CONTAINER_CA_DIR}/ca.pem`;

/** The PEM files bootstrap writes on the target, already generated locally (src/tls). */
export interface TlsFiles {
  caPem: string;
  certPem: string;
  keyPem: string;
}

/** Everything the pure step builders need; no I/O happens while building. */
export interface StepContext {
  /** Prefix docker/apt commands with `sudo -n` (the cloud image's user is not root and not in the docker group). */
  sudo: boolean;
  names: BootstrapNames;
  /** A root-only folder on the target; TLS material goes to `${remoteDir}/tls`. */
  remoteDir: string;
  /** Host ports the server's gRPC and HTTP ports are published on, and the host address to bind. */
  ports: { grpc: number; http: number; bindHost?: string };
  waypointImage: string;
  runnerImage: string;
  /** Image the on-demand runner profile launches. */
  odrImage: string;
  tls: TlsFiles;
  /** Registries the runner pushes to with the VM's identity (GCP: Artifact Registry); none when absent. */
  registryAuth?: RegistryAuth;
}

/** `docker ARGS`, through `sudo -n` when the context says so. */
export function docker(ctx: StepContext, ...args: string[]): string[] {
  return asRoot(ctx, "docker", ...args);
}

/** ARGV as root when the context needs sudo. `-n`: never prompt, fail instead (a prompt would hang over SSH). */
export function asRoot(ctx: StepContext, ...argv: string[]): string[] {
  return ctx.sudo ? ["sudo", "-n", ...argv] : argv;
}

export function cmd(argv: string[], extra: Omit<Command, "argv"> = {}): Command {
  return { argv, ...extra };
}

export function tlsDir(ctx: StepContext): string {
  return `${ctx.remoteDir}/tls`;
}

/** The folder on the target holding only the CA certificate, bind-mounted (read-only) into runners and apps. */
export function caDir(ctx: StepContext): string {
  return `${ctx.remoteDir}/ca`;
}

export function sha256(text: string | Buffer): string {
  return createHash("sha256").update(text).digest("hex");
}

/**
 * A short digest of a container's desired configuration, stored as the
 * `pilot.config` label: the check compares it, so a changed image, flag or
 * certificate re-creates the container instead of leaving a stale one.
 */
export function configHash(parts: unknown): string {
  return sha256(JSON.stringify(parts)).slice(0, 16);
}

/** `-p` value: `[bindHost:]hostPort:containerPort`. */
export function publish(ctx: StepContext, hostPort: number, containerPort: number): string {
  return ctx.ports.bindHost ? `${ctx.ports.bindHost}:${hostPort}:${containerPort}` : `${hostPort}:${containerPort}`;
}

/** The host address the target itself reaches the published HTTP port on (a SAN of the certificate). */
export function localProbeHost(ctx: StepContext): string {
  const h = ctx.ports.bindHost;
  return h && h !== "0.0.0.0" && h !== "::" ? h : "127.0.0.1";
}

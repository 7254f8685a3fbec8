/**
 * Server bootstrap (DESIGN.md "Bootstrap"): turns a VM with SSH (or the
 * local Docker engine) into a Waypoint server with an adopted runner, every
 * step checked first so a re-run of a healthy server only runs checks.
 */
import { dirname, join } from "node:path";
import type { EmitFn } from "../engine/types.js";
import { PilotError } from "../errors.js";
import { ensureStackTls } from "../tls/index.js";
import { runStep, runChecks, type RunStepOptions } from "./step-runner.js";
import {
  DEFAULT_NAMES, waitForRunner, createNetwork, createVolumes, hasRegistryAuth, installDocker, parseBootstrapToken, setRunnerProfile,
  startRunner, startServer, takeBootstrapToken, uploadRegistryAuth, uploadTls, waitForPackageManager, waitForServer, waypointWithToken,
  type BootstrapNames, type RegistryAuth, type StepContext,
} from "./steps/index.js";
import type { Executor, Step } from "./types.js";

export type { Executor, ExecResult, ExecOptions, Step, Command, Upload, Action } from "./types.js";
export { shellQuote, shellJoin } from "./shell-quote.js";
export { LocalExecutor } from "./executor-local.js";
export { RecordingExecutor } from "./executor-recording.js";
export { SshExecutor, connectSsh, type ConnectSshOptions } from "./ssh/executor.js";
export {
  forgetHostKey, sshCommandArgs, knownHostsPath, fingerprintOf, fingerprintOfLine, HostKeyMismatchError, ACCEPT_NEW_HOST_KEY_FLAG,
} from "./ssh/host-key.js";
export { serverHealth, type HealthOptions } from "./health.js";
export { writeWaypointContext, waypointConfigDir, type WaypointContextOptions } from "./waypoint-context.js";
export { runStep, stepKey, type StepOutcome } from "./step-runner.js";
export { DEFAULT_NAMES, type BootstrapNames, type RegistryAuth } from "./steps/index.js";

export const DEFAULT_WAYPOINT_IMAGE = "hashicorp/waypoint:0.11.4";

/** Inputs of one bootstrap run. */
export interface BootstrapOptions {
  exec: Executor;
  /** local: skip the package-manager wait and the Docker install (the user's own engine). */
  target: "vm" | "local";
  /** IPs/DNS names for the certificate SANs (first = the public one). */
  serverAddresses: string[];
  /** `$stackDir/tls`: the CA and server certificate are made and kept here. */
  tlsDir: string;
  waypointImage: string;
  /** Defaults to waypointImage. */
  runnerImage?: string;
  /** Image of on-demand runners; default: the server image's name suffixed `-odr` (as Waypoint's installer does). */
  odrImage?: string;
  /** Known bootstrap token (from state), if any. */
  token: string | undefined;
  /** Persists a freshly taken token; called the moment the server hands it out. */
  saveToken(token: string): Promise<void>;
  /** Events keyed `bootstrap:<step name>`. */
  emit: EmitFn;
  /** Run checks only; report what would be applied. */
  dryRun?: boolean;
  /** Prefix docker/system commands with `sudo -n`; default: true for vm, false for local. */
  sudo?: boolean;
  /** Container/network/volume names (tests use unique ones). */
  names?: Partial<BootstrapNames>;
  /** Host ports to publish 9701/9702 on, and the address to bind (default all; local: 127.0.0.1). */
  ports?: { grpc?: number; http?: number; bindHost?: string };
  /** Root-only folder on the target for TLS material; default /etc/pilot (vm), `$stackDir/server` (local). */
  remoteDir?: string;
  /** Registries the runner pushes to with the VM's own identity (the provider's runnerRegistryAuth); none by default. */
  registryAuth?: RegistryAuth;
  /** Test hook: how polls wait. */
  sleep?: (ms: number) => Promise<void>;
}

/** Waypoint's installer convention: `hashicorp/waypoint:X` → `hashicorp/waypoint-odr:X`. */
export function defaultOdrImage(serverImage: string): string {
  const at = serverImage.indexOf("@");
  const base = at >= 0 ? serverImage.slice(0, at) : serverImage;
  const rest = at >= 0 ? serverImage.slice(at) : "";
  const colon = base.lastIndexOf(":");
  const hasTag = colon > base.lastIndexOf("/");
  return hasTag ? `${base.slice(0, colon)}-odr${base.slice(colon)}${rest}` : `${base}-odr${rest}`;
}

/** Builds the pure step context from the options and the stack's TLS material. */
export function stepContext(o: BootstrapOptions, tls: StepContext["tls"]): StepContext {
  const local = o.target === "local";
  return {
    sudo: o.sudo ?? !local,
    names: { ...DEFAULT_NAMES, ...o.names },
    remoteDir: o.remoteDir ?? (local ? join(dirname(o.tlsDir), "server") : "/etc/pilot"),
    ports: {
      grpc: o.ports?.grpc ?? 9701,
      http: o.ports?.http ?? 9702,
      bindHost: o.ports?.bindHost ?? (local ? "127.0.0.1" : undefined),
    },
    waypointImage: o.waypointImage,
    runnerImage: o.runnerImage ?? o.waypointImage,
    odrImage: o.odrImage ?? defaultOdrImage(o.waypointImage),
    tls,
    ...(o.registryAuth && o.registryAuth.hosts.length > 0 ? { registryAuth: o.registryAuth } : {}),
  };
}

/** The certificate's names: the given addresses, then the names clients inside the VM use. */
export function certificateNames(o: BootstrapOptions): string[] {
  const names = { ...DEFAULT_NAMES, ...o.names };
  return [...o.serverAddresses, names.serverContainer, "localhost", "127.0.0.1"];
}

/**
 * A login token for the runner (see steps/runner-container.ts), without
 * expiry like the one Waypoint's installer gives its runner: an expired one
 * would stop every job with nobody watching. `-expires-in=0s` is how the CLI
 * asks for no expiry (the server sets one only for a positive duration).
 */
async function mintRunnerToken(exec: Executor, ctx: StepContext, token: string): Promise<string> {
  const r = await exec.run(waypointWithToken(ctx, token, ["user", "token", "-expires-in=0s"]).argv, { stdin: `${token}\n` });
  const minted = r.stdout.trim().split(/\s+/).pop();
  if (r.code !== 0 || !minted) throw new PilotError(`bootstrap: could not mint the runner's login token: ${r.stderr.trim() || `exit ${r.code}`}`);
  return minted;
}

/** A placeholder in dry runs that have no token yet: checks using it fail, so the step shows as "would apply". */
const NO_TOKEN = "pilot-dry-run-no-token";

/**
 * Runs every bootstrap step in order (see ./steps): checks first, applies
 * only what is missing. Returns the names of the steps applied and skipped.
 * Stops at the first failure with a PilotError.
 */
export async function bootstrapServer(o: BootstrapOptions): Promise<{ applied: string[]; skipped: string[] }> {
  if (o.serverAddresses.length === 0) throw new PilotError("bootstrap: no server address for the certificate");
  const tls = await ensureStackTls(o.tlsDir, certificateNames(o));
  const ctx = stepContext(o, { caPem: tls.caPem, certPem: tls.certPem, keyPem: tls.keyPem });
  const applied: string[] = [];
  const skipped: string[] = [];
  let token = o.token;
  const base: RunStepOptions = { emit: o.emit, dryRun: o.dryRun, sleep: o.sleep };

  const run = async (step: Step, extra: Partial<RunStepOptions> = {}) => {
    const outcome = await runStep(o.exec, step, { ...base, ...extra });
    (outcome === "skipped" ? skipped : applied).push(step.name);
  };

  if (o.target === "vm") {
    await run(waitForPackageManager(ctx));
    await run(installDocker(ctx));
  }
  await run(createNetwork(ctx));
  await run(createVolumes(ctx));
  await run(uploadTls(ctx));
  await run(startServer(ctx));
  await run(waitForServer(ctx));

  try {
    await run(takeBootstrapToken(ctx, token), {
      afterApply: async ([result]) => {
        const fresh = result ? parseBootstrapToken(result.stdout) : undefined;
        if (!fresh) throw new PilotError("bootstrap: `waypoint server bootstrap` printed no token");
        await o.saveToken(fresh); // at once: the server will never hand it out again
        token = fresh;
      },
    });
  } catch (err) {
    // Only a refused `waypoint server bootstrap` means "already bootstrapped"; anything else (SSH, parsing) passes through.
    if (!(err instanceof PilotError) || !err.message.startsWith('bootstrap step "bootstrap-token"')) throw err;
    throw new PilotError(
      token === undefined
        ? "The Waypoint server is already bootstrapped, but this stack's state has no token for it (it was lost or never saved)."
        : "The Waypoint server rejects the token in this stack's state, and it is already bootstrapped.",
      {
        cause: err,
        hint:
          "A Waypoint server hands out its first token only once. If you have a valid token elsewhere, put it back " +
          "in state; otherwise the server's data must be reset (remove the waypoint-server volume on the server, " +
          "which deletes its projects) and `pilot up-server` run again. Details: " + err.message,
      },
    );
  }

  const t = token ?? NO_TOKEN;
  // Before the runner: its config hash covers these files, and it mounts them.
  if (hasRegistryAuth(ctx)) await run(uploadRegistryAuth(ctx));
  await run(startRunner(ctx, ""), {
    // A login token is minted only when the runner container must be (re)created.
    prepareApply: async () => startRunner(ctx, await mintRunnerToken(o.exec, ctx, t)).apply,
  });
  await run(waitForRunner(ctx, t));
  await run(setRunnerProfile(ctx, t));
  return { applied, skipped };
}

/** Every step's checks, without applying: true when the server needs nothing (cheap health probe). */
export async function isBootstrapped(o: BootstrapOptions): Promise<boolean> {
  const tls = await ensureStackTls(o.tlsDir, certificateNames(o));
  const ctx = stepContext(o, { caPem: tls.caPem, certPem: tls.certPem, keyPem: tls.keyPem });
  if (!o.token) return false;
  const steps = [createNetwork(ctx), createVolumes(ctx), uploadTls(ctx), startServer(ctx), takeBootstrapToken(ctx, o.token),
    ...(hasRegistryAuth(ctx) ? [uploadRegistryAuth(ctx)] : []),
    startRunner(ctx, ""), waitForRunner(ctx, o.token), setRunnerProfile(ctx, o.token)];
  for (const s of steps) if (!(await runChecks(o.exec, s)).done) return false;
  return true;
}

/**
 * Between the commands and src/bootstrap: opens the right executor for a
 * stack (SSH with the pinned host key, or the local Docker engine), runs the
 * bootstrap, and reports server health. Each function closes what it opens.
 */
import { spawn } from "node:child_process";
import { join } from "node:path";
import { PilotError, UsageError } from "../errors.js";
import { checkImageRef } from "../image-ref.js";
import type { Provider, ServerAccess } from "../providers/types.js";
import type { StackState } from "../state/schema.js";
import type { CommandContext } from "./context.js";

/** Checks a --waypoint-image value before anything runs. */
export function checkWaypointImage(value: string): string {
  return checkImageRef("waypoint-image", value, "hashicorp/waypoint:0.11.4");
}

/**
 * The host ports clients reach Waypoint's gRPC API and UI on: on a VM
 * Waypoint's own 9701/9702; on the local engine the ones recorded in the
 * stack's settings (--grpc-port / --http-port), so stacks can run side by side.
 */
export function hostPorts(access: ServerAccess, settings: Record<string, unknown>, env: NodeJS.ProcessEnv = {}): { grpc: number; http: number } {
  if (access.via !== "local") return vmPortsForTests(env) ?? { grpc: 9701, http: 9702 };
  return { grpc: Number(settings.grpcPort ?? 9701), http: Number(settings.httpPort ?? 9702) };
}

/**
 * Testing only (README "Development"): `PILOT_VM_PORTS=GRPC,HTTP` publishes a
 * VM's Waypoint on those host ports instead of 9701/9702, for the same reason
 * as PILOT_VM_NAME_SUFFIX: the e2e "VM" shares this machine's ports with other runs.
 */
function vmPortsForTests(env: NodeJS.ProcessEnv): { grpc: number; http: number } | undefined {
  const text = env.PILOT_VM_PORTS;
  if (!text) return undefined;
  const m = /^(\d{1,5}),(\d{1,5})$/.exec(text.trim());
  const [grpc, http] = m ? [Number(m[1]), Number(m[2])] : [NaN, NaN];
  if (!(grpc >= 1 && grpc <= 65535 && http >= 1 && http <= 65535 && grpc !== http)) {
    throw new UsageError(`PILOT_VM_PORTS "${text}" must be two different ports, GRPC,HTTP (e.g. 19701,19702).`);
  }
  return { grpc, http };
}

/**
 * Testing only (README "Development"): `PILOT_VM_NAME_SUFFIX=S` gives the
 * server's containers, network, volumes and root folder on a VM S-suffixed
 * names. The e2e tier's "VM" is the test machine itself, whose Docker engine
 * other runs may share: with its own names a run never adopts, nor removes,
 * what another run made. Unset, a VM gets the fixed names (it is the whole machine).
 */
function vmNamesForTests(env: NodeJS.ProcessEnv): { names?: { network: string; serverContainer: string; runnerContainer: string; serverVolume: string; runnerVolume: string }; remoteDir?: string } {
  const s = env.PILOT_VM_NAME_SUFFIX;
  if (!s) return {};
  // It ends up in container names and a path under /etc: keep it to what both accept.
  if (!/^[a-z0-9][a-z0-9-]{0,31}$/.test(s)) throw new UsageError(`PILOT_VM_NAME_SUFFIX "${s}" must be 1-32 lowercase letters, digits or dashes.`);
  return {
    names: {
      network: `pilot-${s}`,
      serverContainer: `waypoint-server-${s}`,
      runnerContainer: `waypoint-runner-${s}`,
      serverVolume: `waypoint-server-${s}`,
      runnerVolume: `waypoint-runner-${s}`,
    },
    remoteDir: `/etc/pilot-${s}`,
  };
}

/**
 * Bootstrap options that depend on where the server runs. A VM is the whole
 * machine, so the defaults apply; on the user's own Docker engine several
 * stacks may live side by side, so every name carries the stack, the
 * containers join the stack's network (where its PostgreSQL is), and the
 * ports listen on 127.0.0.1 only.
 */
export function placement(ctx: CommandContext, access: ServerAccess, settings: Record<string, unknown>) {
  if (access.via !== "local") {
    const ports = vmPortsForTests(ctx.env);
    return { target: "vm" as const, ...vmNamesForTests(ctx.env), ...(ports ? { ports } : {}) };
  }
  const p = (what: string) => `pilot-${ctx.stack}-${what}`;
  return {
    target: "local" as const,
    names: {
      network: p("net"),
      serverContainer: p("waypoint-server"),
      runnerContainer: p("waypoint-runner"),
      serverVolume: p("waypoint-server"),
      runnerVolume: p("waypoint-runner"),
    },
    ports: { ...hostPorts(access, settings), bindHost: "127.0.0.1" },
  };
}

/**
 * Pins the host key the cloud publishes for the server (GCE guest
 * attributes), before any connection, when nothing is pinned yet. Without a
 * published key the first connection pins what it sees, and the user is told.
 */
export async function pinPublishedHostKey(ctx: CommandContext, provider: Provider<any>, key: string): Promise<void> {
  const b = await import("../bootstrap/index.js");
  await forgetPinOfRebuiltServer(ctx, b);
  const state = ctx.store.current!;
  if (state.server.hostKeyFingerprint || !provider.publishedHostKey) return;
  const published = await provider.publishedHostKey(state, (message) => ctx.ui.emit({ type: "progress", key, message }));
  if (!published) {
    ctx.ui.warn("The cloud has not published the server's SSH host key; Pilot will pin the key the server presents on first contact.");
    return;
  }
  // Some clouds publish only the fingerprint (EC2's console when cloud-init printed no keys).
  const fingerprint = published.startsWith("SHA256:") ? published : b.fingerprintOfLine(published);
  await ctx.store.update((s) => {
    s.server.hostKeyFingerprint = fingerprint;
    s.server.hostKeySource = "cloud";
    pinToServer(s);
  });
  ctx.ui.emit({ type: "log", level: "info", message: `Pinned the server's SSH host key ${fingerprint}, as the cloud published it.` });
}

/** Records which VM a pin belongs to: the server resource's id now (issue 8, point 5). */
function pinToServer(s: StackState): void {
  const id = s.resources.server?.id;
  if (id) s.server.hostKeyServerId = id;
  else delete s.server.hostKeyServerId;
}

/**
 * A pin belongs to one VM. When state records another server id than the
 * pinned one, Pilot itself replaced the server (only apply writes that id),
 * so the old pin is dropped and the new VM's key pinned afresh, from the
 * cloud where it publishes one, with no prompt. A pin without a server id
 * (older state) is kept as it is.
 */
async function forgetPinOfRebuiltServer(ctx: CommandContext, b: typeof import("../bootstrap/index.js")): Promise<void> {
  const state = ctx.store.current!;
  const pinnedFor = state.server.hostKeyServerId;
  const now = state.resources.server?.id;
  if (!state.server.hostKeyFingerprint || !pinnedFor || !now || pinnedFor === now) return;
  await ctx.store.update((s) => {
    b.forgetHostKey(ctx.stackDir, s.server);
    delete s.server.hostKeyServerId;
  });
  ctx.ui.emit({ type: "log", level: "info", message: `The server was rebuilt by Pilot (${pinnedFor} → ${now}); pinning the new server's SSH host key.` });
}

/** Opens the executor for the stack's server; SSH pins the host key from the cloud, or else on first contact. */
export async function openExecutor(ctx: CommandContext, provider: Provider<any>, access: ServerAccess, opts: { acceptNewHostKey?: boolean; key?: string }) {
  const b = await import("../bootstrap/index.js");
  if (access.via === "local") return new b.LocalExecutor(ctx.env);
  if (opts.acceptNewHostKey) {
    await ctx.store.update((s) => b.forgetHostKey(ctx.stackDir, s.server));
    ctx.ui.warn("Forgot the pinned SSH host key (--accept-new-host-key); the key the cloud publishes, or else the one the server presents, will be pinned.");
  }
  const key = opts.key ?? "bootstrap:connect";
  await pinPublishedHostKey(ctx, provider, key);
  return b.connectSsh({
    host: access.host,
    port: access.port,
    username: access.user,
    privateKeyPath: access.privateKeyPath,
    pinnedFingerprint: ctx.store.current!.server.hostKeyFingerprint,
    pinnedSource: ctx.store.current!.server.hostKeySource,
    knownHostsFile: b.knownHostsPath(ctx.stackDir),
    onFirstContact: async (fingerprint) => {
      await ctx.store.update((s) => {
        s.server.hostKeyFingerprint = fingerprint;
        s.server.hostKeySource = "first-contact";
        pinToServer(s);
      });
      ctx.ui.emit({ type: "log", level: "info", message: `Pinned the server's SSH host key ${fingerprint} on first contact.` });
    },
    onRetry: (attempt, error) => ctx.ui.emit({ type: "progress", key, message: `waiting for SSH (attempt ${attempt}: ${error})` }),
  });
}

/** Runs the bootstrap against the stack's server; returns summary lines. */
export async function bootstrapStack(
  ctx: CommandContext,
  provider: Provider<any>,
  settings: Record<string, unknown>,
  opts: { acceptNewHostKey?: boolean; dryRun?: boolean },
): Promise<string[]> {
  const state = ctx.store.current!;
  const access = provider.serverAccess(state);
  if (!access) throw new PilotError("The server has no address yet, so it cannot be bootstrapped.", { hint: "Run `pilot up-server` again once its resources exist." });
  const b = await import("../bootstrap/index.js");
  const emit = ctx.ui.emit.bind(ctx.ui);
  emit({ type: "start", key: "bootstrap:connect", action: "check" });
  const exec = await openExecutor(ctx, provider, access, opts);
  emit({ type: "done", key: "bootstrap:connect", action: "check" });
  try {
    const tlsDir = join(ctx.stackDir, "tls");
    const where = placement(ctx, access, settings);
    const result = await b.bootstrapServer({
      exec,
      ...where,
      serverAddresses: [access.publicAddress],
      tlsDir,
      waypointImage: String(settings.waypointImage ?? b.DEFAULT_WAYPOINT_IMAGE),
      registryAuth: provider.runnerRegistryAuth?.(settings),
      token: state.secrets.waypointToken,
      saveToken: async (token) => {
        ctx.ui.addSecrets([token]);
        await ctx.store.update((s) => {
          s.secrets.waypointToken = token;
        });
      },
      emit,
      dryRun: opts.dryRun,
    });
    if (opts.dryRun) {
      return [result.applied.length ? `Bootstrap would apply: ${result.applied.join(", ")}.` : "Bootstrap: nothing to do."];
    }
    await ctx.store.update((s) => {
      s.server.bootstrappedAt = new Date().toISOString();
    });
    const { grpc: grpcPort, http: httpPort } = hostPorts(access, settings, ctx.env);
    const context = b.writeWaypointContext({
      stack: ctx.stack,
      address: `${access.publicAddress}:${grpcPort}`,
      token: ctx.store.current!.secrets.waypointToken!,
      caPath: join(tlsDir, "ca.pem"),
      env: ctx.env,
    });
    return [
      result.applied.length ? `Server bootstrapped (${result.applied.join(", ")}).` : "Server checked: nothing to do.",
      `Waypoint UI: https://${access.publicAddress}:${httpPort} (log in with \`pilot server --token\`; its CA is ${join(tlsDir, "ca.pem")}).`,
      `If you have the waypoint CLI: ${context.hint}`,
    ];
  } finally {
    await exec.close();
  }
}

/** Server and runner health for `pilot status`; undefined when the server was never bootstrapped. */
export async function serverHealthFor(
  ctx: CommandContext,
  provider: Provider<any>,
  state: StackState,
): Promise<{ ok: boolean; server: string; runner: string; lines: string[] } | undefined> {
  const access = provider.serverAccess(state);
  if (!access || !state.server.bootstrappedAt) return undefined;
  const b = await import("../bootstrap/index.js");
  let exec;
  try {
    exec = await openExecutor(ctx, provider, access, { key: "status:ssh" });
  } catch (err) {
    if (err instanceof b.HostKeyMismatchError) throw err;
    const message = err instanceof Error ? err.message : String(err);
    return { ok: false, server: "unreachable", runner: "unknown", lines: [`Server: unreachable over SSH (${message}).`] };
  }
  try {
    const where = placement(ctx, access, state.settings);
    const h = await b.serverHealth(exec, {
      sudo: where.target === "vm",
      names: where.names,
      remoteDir: where.target === "local" ? join(ctx.stackDir, "server") : where.remoteDir,
      httpPort: where.ports?.http,
      bindHost: where.target === "local" ? where.ports.bindHost : undefined,
    });
    const ok = h.server === "running, answering" && h.runner === "running";
    return { ok, ...h, lines: [`Server: ${h.server}.`, `Runner: ${h.runner}.`] };
  } finally {
    await exec.close();
  }
}

/**
 * `pilot server --ssh [-- CMD...]`: OpenSSH with the stack's key and pinned
 * host key, a shell or the one command given; returns its exit code.
 */
export async function openShell(ctx: CommandContext, access: ServerAccess, state: StackState, command: string[] = []): Promise<number> {
  if (access.via === "local") throw new UsageError("The local provider's server runs on this machine: there is nothing to SSH into.", "Use `docker exec -it pilot-<stack>-waypoint-server sh` instead.");
  if (!state.server.hostKeyFingerprint) {
    throw new PilotError("Pilot has not contacted the server yet, so its host key is not pinned.", { hint: "Run `pilot up-server` first; it pins the key." });
  }
  const { sshCommandArgs, shellJoin } = await import("../bootstrap/index.js");
  // ssh hands the remote side one string for its shell: quote each word so it arrives as given.
  const [cmd, ...args] = [...sshCommandArgs(access, ctx.stackDir), ...(command.length ? [shellJoin(command)] : [])];
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: "inherit" });
    child.on("error", (err) => reject(new PilotError(`Could not start ssh: ${err.message}.`, { hint: "Install an OpenSSH client." })));
    child.on("close", (code) => resolve(code ?? 1));
  });
}

/**
 * Teardown of a server on the user's own Docker engine: a VM takes its
 * containers with it, but here the Waypoint server and runner containers
 * and their volumes must go before the stack's network can.
 */
export async function removeLocalServer(ctx: CommandContext, provider: Provider<any>, state: StackState): Promise<void> {
  const access = provider.serverAccess(state);
  if (access?.via !== "local") return;
  const where = placement(ctx, access, state.settings);
  if (where.target !== "local") return;
  const { LocalExecutor } = await import("../bootstrap/index.js");
  const exec = new LocalExecutor(ctx.env);
  const emit = ctx.ui.emit.bind(ctx.ui);
  const remove = async (key: string, argv: string[]) => {
    emit({ type: "start", key, action: "delete" });
    const r = await exec.run(argv);
    if (r.code !== 0 && !/no such (container|volume)/i.test(r.stderr)) {
      const error = `delete ${key}: ${r.stderr.trim() || `docker exited ${r.code}`}`;
      emit({ type: "failed", key, error });
      throw new PilotError(error, { hint: "Remove it with docker yourself, then run `pilot teardown` again." });
    }
    emit({ type: "done", key, action: "delete" });
  };
  await Promise.all([
    remove("waypoint-runner", ["docker", "rm", "--force", "--volumes", where.names.runnerContainer]),
    remove("waypoint-server", ["docker", "rm", "--force", "--volumes", where.names.serverContainer]),
    removeLocalApps(ctx, state, exec),
  ]);
  // Waypoint's own data goes even with --keep-volumes: its token leaves with the
  // stack's state, and a bootstrapped server without its token cannot be used again.
  await Promise.all([
    remove("waypoint-runner-volume", ["docker", "volume", "rm", where.names.runnerVolume]),
    remove("waypoint-server-volume", ["docker", "volume", "rm", where.names.serverVolume]),
  ]);
}

/**
 * The apps deployed beside a local server (docker target): their containers
 * sit on the stack's network, which cannot go while they are attached, so
 * they go first (found by the `pilot.stack` label their waypoint.hcl gives
 * them). Their images and scratch volumes, which Waypoint names by app
 * alone, are removed when nothing uses them any more; one still in use by
 * another stack's app of the same name stays.
 */
async function removeLocalApps(ctx: CommandContext, state: StackState, exec: { run(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> }): Promise<void> {
  const listed = await exec.run(["docker", "ps", "-aq", "--filter", `label=pilot.stack=${ctx.stack}`, "--filter", "label=pilot.app"]);
  const ids = listed.stdout.split("\n").filter(Boolean);
  if (ids.length > 0) {
    ctx.ui.emit({ type: "start", key: "apps", action: "delete" });
    const r = await exec.run(["docker", "rm", "--force", "--volumes", ...ids]);
    if (r.code !== 0) throw new PilotError(`delete the stack's app containers: ${r.stderr.trim()}`, { hint: "Remove them with docker yourself, then run `pilot teardown` again." });
    ctx.ui.emit({ type: "done", key: "apps", action: "delete" });
  }
  const docker = Object.values(state.apps ?? {}).filter((a) => a.target === "docker");
  for (const app of new Set(docker.map((a) => a.app))) {
    // No --force: an image or volume another stack's running app still uses is refused by Docker, and kept.
    await exec.run(["docker", "image", "rm", `waypoint.local/${app}`]);
    await exec.run(["docker", "volume", "rm", `${app}-scratch`]);
  }
}

/**
 * The app workflow talks to the stack's Waypoint server the way bootstrap
 * does: the `waypoint` CLI inside the server container, over SSH (or on the
 * local engine), never a local Waypoint binary. A session opens the executor
 * once and runs any number of commands through it.
 *
 * Secrets never travel in argv (visible in `ps` on the server): the token,
 * any file (a git key, a configuration holding a password) and any
 * KEY=VALUE input go in on stdin, read by one fixed shell line.
 */
import { join } from "node:path";
import type { ExecResult, Executor } from "../bootstrap/types.js";
import type { StepContext } from "../bootstrap/steps/context.js";
import type { CommandContext } from "../commands/context.js";
import { PilotError } from "../errors.js";
import type { Provider, ServerAccess } from "../providers/types.js";
import type { StackState } from "../state/schema.js";

/**
 * Reads the token, then one base64 line per name in $PILOT_FILES into a
 * private temporary folder (mode 0700, removed on exit), and runs
 * `waypoint "$@"` there — an empty folder, so no stray waypoint.hcl is
 * picked up. What is left on stdin (KEY=VALUE lines for `config set`) is
 * the CLI's. Arguments name the files relative to that folder.
 *
 * With $PILOT_JOB set (a long job's watched run, which reads no stdin), the
 * CLI's pid is kept in /tmp/pilot-job.$PILOT_JOB so that STOP_SCRIPT can end
 * it: a CLI killed from outside `docker exec` would otherwise live on in the
 * container.
 */
export const SESSION_SCRIPT = [
  "IFS= read -r WAYPOINT_SERVER_TOKEN; export WAYPOINT_SERVER_TOKEN",
  'd=$(mktemp -d) || exit 1',
  "trap 'rm -rf \"$d\" \"/tmp/pilot-job.$PILOT_JOB\"' EXIT",
  'for f in $PILOT_FILES; do IFS= read -r line; printf %s "$line" | base64 -d > "$d/$f" || exit 1; done',
  'cd "$d" || exit 1',
  'if [ -z "$PILOT_JOB" ]; then waypoint "$@"; exit; fi',
  'waypoint "$@" </dev/null & echo $! > "/tmp/pilot-job.$PILOT_JOB"',
  'wait $!',
].join("\n");

/** Ends the CLI of a watched run ($1: its PILOT_JOB); a run already over has no pid file left. */
export const STOP_SCRIPT = 'p=$(cat "/tmp/pilot-job.$1" 2>/dev/null) || exit 0; kill "$p"';

export interface WaypointCall {
  /** Files written in the command's folder before it runs, by name (e.g. "source.hcl"). */
  files?: Record<string, string | Buffer>;
  /** Lines the CLI itself reads from stdin (e.g. KEY=VALUE for `config set`). */
  input?: string;
  onOutput?: (chunk: string, stream: "stdout" | "stderr") => void;
  timeoutMs?: number;
  /** Names the run so `stopWaypoint(id)` can end it ([a-z0-9]+; the CLI then reads no stdin). */
  stopId?: string;
  signal?: AbortSignal;
}

export interface ServerSession {
  state: StackState;
  provider: Provider<any>;
  access: ServerAccess;
  /** "vm": a cloud VM reached over SSH; "local": the user's own Docker engine. */
  target: "vm" | "local";
  /** The stack's Docker network, where the server, its runner and docker-target apps are. */
  network: string;
  /** On the server host: the folder holding the stack CA alone. */
  caDir: string;
  /** `waypoint ARGS` in the server container, authenticated. */
  waypoint(args: string[], call?: WaypointCall): Promise<ExecResult>;
  /** Ends the in-container CLI of the run started with this `stopId`, if it is still running. */
  stopWaypoint(stopId: string): Promise<void>;
  /** `docker ARGS` on the server host (through `sudo -n` on a VM). */
  docker(args: string[], opts?: { onOutput?: WaypointCall["onOutput"]; timeoutMs?: number }): Promise<ExecResult>;
  close(): Promise<void>;
}

const STOP_ID = /^[a-z0-9]+$/;

/** Opens a session on the stack's server; it must have been bootstrapped (a token in state). */
export async function openServerSession(ctx: CommandContext, state: StackState, provider: Provider<any>): Promise<ServerSession> {
  const access = provider.serverAccess(state);
  const token = state.secrets.waypointToken;
  if (!access || !token || !state.server.bootstrappedAt) {
    throw new PilotError(`Stack "${ctx.stack}" has no bootstrapped Waypoint server yet.`, {
      hint: "Run `pilot up-server` (without --skip-bootstrap) first.",
    });
  }
  const { placement, openExecutor } = await import("../commands/bootstrap-stack.js");
  const b = await import("../bootstrap/index.js");
  const steps = await import("../bootstrap/steps/index.js");
  const where = placement(ctx, access, state.settings);
  const remoteDir = where.target === "local" ? join(ctx.stackDir, "server") : (where.remoteDir ?? "/etc/pilot");
  const names = { ...b.DEFAULT_NAMES, ...where.names };
  // Only the target's shape matters to the CLI helpers (sudo, container names, folders); no images or TLS here.
  const stepCtx = {
    sudo: where.target === "vm",
    names,
    remoteDir,
    ports: { grpc: 9701, http: 9702 },
    waypointImage: "",
    runnerImage: "",
    odrImage: "",
    tls: { caPem: "", certPem: "", keyPem: "" },
  } satisfies StepContext;
  const exec: Executor = await openExecutor(ctx, provider, access, { key: "server:connect" });

  return {
    state,
    provider,
    access,
    target: where.target,
    network: names.network,
    caDir: steps.caDir(stepCtx),
    async waypoint(args, call = {}) {
      const files = Object.entries(call.files ?? {});
      for (const [name] of files) {
        if (!/^[a-z][a-z0-9.-]*$/.test(name)) throw new Error(`bad session file name ${name}`); // a programming error
      }
      if (call.stopId !== undefined && !STOP_ID.test(call.stopId)) throw new Error(`bad stop id ${call.stopId}`);
      const argv = steps.docker(
        stepCtx, "exec", "-i", ...steps.clientEnv(), "-e", `PILOT_FILES=${files.map(([n]) => n).join(" ")}`,
        ...(call.stopId ? ["-e", `PILOT_JOB=${call.stopId}`] : []),
        names.serverContainer, "sh", "-c", SESSION_SCRIPT, "waypoint", ...args,
      );
      const stdin = [`${token}\n`, ...files.map(([, c]) => `${Buffer.from(c).toString("base64")}\n`), call.input ?? ""].join("");
      return exec.run(argv, { stdin, onOutput: call.onOutput, timeoutMs: call.timeoutMs, signal: call.signal });
    },
    async stopWaypoint(stopId) {
      if (!STOP_ID.test(stopId)) throw new Error(`bad stop id ${stopId}`);
      await exec.run(steps.docker(stepCtx, "exec", names.serverContainer, "sh", "-c", STOP_SCRIPT, "sh", stopId), { timeoutMs: 30_000 });
    },
    docker(args, opts = {}) {
      return exec.run(steps.docker(stepCtx, ...args), opts);
    },
    close: () => exec.close(),
  };
}

/** The output's last lines, for an error message. */
export function lastLines(r: ExecResult, n = 8): string {
  return (r.stderr + "\n" + r.stdout).split(/\r?\n/).map((l) => l.trimEnd()).filter(Boolean).slice(-n).join("\n");
}

/** Throws a PilotError saying what failed, with the CLI's last lines, unless the command succeeded. */
export function expectOk(r: ExecResult, what: string, hint?: string): ExecResult {
  if (r.code === 0) return r;
  throw new PilotError(`${what} failed on the Waypoint server (exit ${r.code}).`, {
    hint: [lastLines(r), hint].filter(Boolean).join("\n"),
  });
}

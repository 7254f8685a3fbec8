/**
 * A remote operation (`waypoint up|destroy -local=false`) is a job on the
 * server; the CLI in the server container only streams it. Pilot does not
 * trust that one stream with the outcome: Waypoint 0.11 has no timeout for a
 * job no runner takes (it waits forever), and a stream can stall while the
 * job itself has long finished. So while the CLI is quiet, Pilot asks the
 * server about the job (found by a label naming this run):
 *
 * - finished, yet the CLI still silent after a grace period: the CLI is
 *   stopped and the job's own result is the outcome;
 * - still waiting for a runner: a warning says what it waits behind (another
 *   job of the same app, or no runner at all); past the start timeout the
 *   job is cancelled and the command fails, saying why.
 *
 * A job that runs is never interrupted, however long it takes: deploys to a
 * cloud can take many minutes, and their output says they are alive.
 */
import { randomBytes } from "node:crypto";
import type { ExecResult } from "../bootstrap/types.js";
import { PilotError } from "../errors.js";
import type { ServerSession } from "./server-session.js";

export interface WatchTiming {
  /** How long the CLI may be silent before Pilot asks the server. */
  quietMs: number;
  /** How often to ask while it stays silent. */
  pollMs: number;
  /** How long a job may wait for a runner before it is cancelled. */
  startTimeoutMs: number;
  /** How long a finished job's CLI may stay silent before it is stopped. */
  graceMs: number;
}

export const DEFAULT_TIMING: WatchTiming = { quietMs: 30_000, pollMs: 15_000, startTimeoutMs: 10 * 60_000, graceMs: 15_000 };

/**
 * The timing, with PILOT_JOB_START_TIMEOUT (seconds) overriding how long a
 * job may wait for a runner; a shorter wait asks the server sooner too.
 */
export function watchTiming(env: NodeJS.ProcessEnv): WatchTiming {
  const raw = env.PILOT_JOB_START_TIMEOUT;
  if (raw === undefined || raw === "") return DEFAULT_TIMING;
  if (!/^\d+$/.test(raw) || Number(raw) < 1) {
    throw new PilotError(`PILOT_JOB_START_TIMEOUT="${raw}" is not a whole number of seconds.`, { hint: "Unset it for the default (600), or give e.g. 900." });
  }
  const startTimeoutMs = Number(raw) * 1000;
  return {
    startTimeoutMs,
    quietMs: Math.min(DEFAULT_TIMING.quietMs, startTimeoutMs / 4),
    pollMs: Math.min(DEFAULT_TIMING.pollMs, startTimeoutMs / 8),
    graceMs: DEFAULT_TIMING.graceMs,
  };
}

/** The label Pilot puts on its jobs (and so on their builds and deployments) to find them again. */
export const RUN_LABEL = "pilot-run";

/** What `waypoint job list -json` says of a job, as far as Pilot reads it. */
export interface JobRecord {
  id: string;
  state: string;
  /** The operation's name as it appears in the job (`up`, `destroy`, `statusReport`, ...). */
  operation: string;
  project?: string;
  app?: string;
  labels: Record<string, string>;
  queueTime?: string;
  error?: string;
}

/** The `operation` oneof of Waypoint 0.11's Job message, as protojson names its fields. */
const OPERATIONS = [
  "noop", "build", "push", "deploy", "destroy", "release", "validate", "auth", "docs", "configSync", "exec", "up", "logs",
  "queueProject", "poll", "statusReport", "startTask", "stopTask", "init", "watchTask", "pipelineStep", "destroyProject",
];

/** Parses `waypoint job list -json`: one indented JSON object per job, one after another. */
export function parseJobList(text: string): JobRecord[] {
  return splitObjects(text).map((raw) => {
    const j = JSON.parse(raw) as Record<string, any>;
    return {
      id: String(j.id ?? ""),
      state: String(j.state ?? "UNKNOWN"),
      operation: OPERATIONS.find((k) => k in j) ?? "unknown",
      project: j.application?.project,
      app: j.application?.application,
      labels: j.labels ?? {},
      queueTime: j.queueTime,
      error: j.error?.message,
    };
  });
}

/** Top-level `{...}` spans of concatenated JSON objects (strings may hold braces). */
function splitObjects(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = -1;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === "\\") i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === "{") {
      if (depth++ === 0) start = i;
    } else if (c === "}" && --depth === 0) out.push(text.slice(start, i + 1));
  }
  return out;
}

export interface WatchedJob {
  project: string;
  app: string;
  /** The operation's name in the job record: `up` or `destroy`. */
  operation: string;
}

export interface WatchOptions {
  onOutput: (chunk: string, stream: "stdout" | "stderr") => void;
  /** A warning for the user (a job waiting behind another, a stream that stalled). */
  warn: (message: string) => void;
  timing?: WatchTiming;
  now?: () => number;
}

export interface WatchedResult extends ExecResult {
  /** The job's id, when Pilot had to look it up. */
  jobId?: string;
  /** True when the CLI was stopped and the outcome read from the server. */
  fromServer?: boolean;
}

const WAITING = new Set(["QUEUED", "WAITING"]);
const DONE = new Set(["SUCCESS", "ERROR"]);

/**
 * Runs `waypoint ARGS` (an operation on PROJECT/APP, `-local=false`) with
 * a run label, watching its job on the server as described above.
 */
export async function runWatchedJob(session: ServerSession, args: string[], job: WatchedJob, o: WatchOptions): Promise<WatchedResult> {
  const timing = o.timing ?? DEFAULT_TIMING;
  const now = o.now ?? Date.now;
  const runId = randomBytes(8).toString("hex");
  const transport = new AbortController();
  const started = now();
  let lastOutput = started;
  const run = session.waypoint([...args, `-label=${RUN_LABEL}=${runId}`], {
    stopId: runId,
    signal: transport.signal,
    onOutput: (chunk, stream) => {
      lastOutput = now();
      o.onOutput(chunk, stream);
    },
  });

  let finishedSince: number | undefined;
  let warnedWaiting = false;
  for (;;) {
    const r = await raceTimer(run, timing.pollMs);
    if (r) return r;
    if (now() - lastOutput < timing.quietMs) continue;

    const jobs = await listJobs(session, job);
    const ours = jobs?.find((j) => j.labels[RUN_LABEL] === runId);
    if (!jobs || !ours) continue; // not queued yet, or the server did not answer: the CLI may still be connecting

    if (DONE.has(ours.state)) {
      finishedSince ??= now();
      if (now() - finishedSince < timing.graceMs) continue;
      o.warn(`Job ${ours.id} finished (${ours.state}) on the server, but the CLI streaming it went silent; Pilot stopped the CLI and took the job's result from the server.`);
      const cut = await stopRun(session, runId, run, transport);
      return {
        code: ours.state === "SUCCESS" ? 0 : 1,
        stdout: cut.stdout,
        stderr: cut.stderr + (ours.error ? `\n${ours.error}\n` : ""),
        jobId: ours.id,
        fromServer: true,
      };
    }
    if (!WAITING.has(ours.state)) continue; // running: its output will come

    const ahead = jobs.filter((j) => j.id !== ours.id && (j.state === "RUNNING" || j.state === "WAITING"));
    const why = ahead.length
      ? `behind ${ahead.map((j) => `job ${j.id} (${j.operation}, ${j.state.toLowerCase()})`).join(", ")}, which Waypoint runs first`
      : "and no runner has taken it";
    if (!warnedWaiting) {
      warnedWaiting = true;
      o.warn(`Job ${ours.id} has waited ${Math.round((now() - started) / 1000)} s to start, ${why}.`);
    }
    if (now() - started >= timing.startTimeoutMs) {
      await session.waypoint(["job", "cancel", ours.id], { timeoutMs: 60_000 });
      await stopRun(session, runId, run, transport);
      throw new PilotError(`Job ${ours.id} (waypoint ${job.operation} of ${job.project}/${job.app}) waited ${Math.round((now() - started) / 1000)} s for a runner, ${why}; Pilot cancelled it.`, {
        hint: ahead.length
          ? `Wait for those jobs or cancel them (\`waypoint job cancel ID\` in the server container), then run the command again.`
          : "Check the stack's runner with `pilot status` (and `docker logs` of its runner container); `pilot up-server` restarts a runner that stopped.",
      });
    }
  }
}

/** The run's result if it settles within `ms`, else undefined (the timer never outlives the race). */
async function raceTimer<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([p, new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

async function listJobs(session: ServerSession, job: WatchedJob): Promise<JobRecord[] | undefined> {
  const r = await session.waypoint(["job", "list", "-json", `-project=${job.project}`, `-app=${job.app}`, "-limit=20"], { timeoutMs: 60_000 });
  if (r.code !== 0) return undefined;
  try {
    return parseJobList(r.stdout);
  } catch {
    return undefined;
  }
}

/** Ends the CLI inside the container, then (if its transport still hangs) the transport itself. */
async function stopRun(session: ServerSession, runId: string, run: Promise<ExecResult>, transport: AbortController): Promise<ExecResult> {
  await session.stopWaypoint(runId).catch(() => undefined);
  const r = await raceTimer(run, 10_000);
  if (r) return r;
  transport.abort();
  return run;
}

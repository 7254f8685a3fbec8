/**
 * Watching a remote job through the server's own record of it: a session
 * whose CLI run is scripted (it answers, or stays silent until stopped) and
 * whose `job list` answers with jobs in the shape `waypoint job list -json`
 * prints them. The real server's side is in the app-workflow e2e test.
 */
import { describe, expect, it } from "vitest";
import type { ExecResult } from "../../../src/bootstrap/types.js";
import { PilotError } from "../../../src/errors.js";
import { parseJobList, runWatchedJob, watchTiming, RUN_LABEL, type WatchTiming } from "../../../src/apps/job-watch.js";
import type { ServerSession, WaypointCall } from "../../../src/apps/server-session.js";

const FAST: WatchTiming = { quietMs: 20, pollMs: 10, startTimeoutMs: 300, graceMs: 30 };
const JOB = { project: "shop", app: "web", operation: "up" };

/** A job as `waypoint job list -json` prints it (indented protojson, one object after another). */
function jobJson(o: { id: string; state: string; op?: string; label?: string; error?: string }): string {
  return JSON.stringify(
    {
      id: o.id,
      application: { application: "web", project: "shop" },
      [o.op ?? "up"]: { release: { prune: true } },
      state: o.state,
      ...(o.label ? { labels: { [RUN_LABEL]: o.label } } : {}),
      ...(o.error ? { error: { code: 2, message: o.error } } : {}),
      queueTime: "2026-11-29T19:11:59.358174940Z",
    },
    null,
    "\t",
  );
}

interface Script {
  /** The CLI run: resolves with this, or never (until stopped) when undefined. */
  cli?: ExecResult | Promise<ExecResult>;
  /** What `job list` shows, given the run's label. */
  jobs: (label: string) => string[];
}

function scriptedSession(script: Script) {
  const calls: string[][] = [];
  let label = "";
  let stop: ((r: ExecResult) => void) | undefined;
  const session = {
    async waypoint(args: string[], call: WaypointCall = {}): Promise<ExecResult> {
      calls.push(args);
      if (args[0] === "job" && args[1] === "list") return { code: 0, stdout: script.jobs(label).join("\n") + "\n", stderr: "" };
      if (args[0] === "job" && args[1] === "cancel") return { code: 0, stdout: "", stderr: "" };
      label = args.find((a) => a.startsWith(`-label=${RUN_LABEL}=`))!.split("=")[2]!;
      expect(call.stopId).toBe(label);
      call.onOutput?.("» Building web...\n", "stdout");
      if (script.cli) return script.cli;
      return new Promise<ExecResult>((resolve) => (stop = resolve));
    },
    async stopWaypoint(id: string) {
      calls.push(["stop", id]);
      stop?.({ code: 143, stdout: "» Building web...\n", stderr: "" });
    },
  } as unknown as ServerSession;
  return { session, calls, label: () => label };
}

const quiet = { onOutput: () => {}, timing: FAST };

describe("parseJobList", () => {
  it("reads each job of the CLI's concatenated JSON, braces inside strings included", () => {
    const text = [jobJson({ id: "A", state: "RUNNING", label: "x" }), jobJson({ id: "B", state: "ERROR", op: "statusReport", error: 'bad "{" brace}' })].join("\n");
    expect(parseJobList(text)).toEqual([
      { id: "A", state: "RUNNING", operation: "up", project: "shop", app: "web", labels: { [RUN_LABEL]: "x" }, queueTime: "2026-11-29T19:11:59.358174940Z", error: undefined },
      { id: "B", state: "ERROR", operation: "statusReport", project: "shop", app: "web", labels: {}, queueTime: "2026-11-29T19:11:59.358174940Z", error: 'bad "{" brace}' },
    ]);
    expect(parseJobList("")).toEqual([]);
  });
});

describe("runWatchedJob", () => {
  it("returns the CLI's own result when it ends, asking the server nothing", async () => {
    const s = scriptedSession({ cli: { code: 0, stdout: "done", stderr: "" }, jobs: () => [] });
    const r = await runWatchedJob(s.session, ["up", "-local=false"], JOB, { ...quiet, warn: () => {} });
    expect(r).toEqual({ code: 0, stdout: "done", stderr: "" });
    expect(s.calls.filter((c) => c[0] === "job")).toEqual([]);
  });

  it("a job the server finished while its CLI went silent: the CLI is stopped and the job's result returned", async () => {
    const warnings: string[] = [];
    const s = scriptedSession({ jobs: (label) => [jobJson({ id: "OLD", state: "SUCCESS" }), jobJson({ id: "J1", state: "SUCCESS", label })] });
    const r = await runWatchedJob(s.session, ["up"], JOB, { ...quiet, warn: (m) => warnings.push(m) });
    expect(r).toMatchObject({ code: 0, jobId: "J1", fromServer: true, stdout: "» Building web...\n" });
    expect(s.calls).toContainEqual(["stop", s.label()]);
    expect(warnings.join("\n")).toMatch(/Job J1 finished \(SUCCESS\) on the server, but the CLI streaming it went silent/);
  });

  it("a failed job read from the server fails with its error", async () => {
    const s = scriptedSession({ jobs: (label) => [jobJson({ id: "J2", state: "ERROR", label, error: "deploy failed: port taken" })] });
    const r = await runWatchedJob(s.session, ["up"], JOB, { ...quiet, warn: () => {} });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("deploy failed: port taken");
  });

  it("a job waiting behind another of the app's jobs is named, then cancelled at the start timeout", async () => {
    const warnings: string[] = [];
    const s = scriptedSession({ jobs: (label) => [jobJson({ id: "BUSY", state: "RUNNING", op: "statusReport" }), jobJson({ id: "J3", state: "QUEUED", label })] });
    const err = await runWatchedJob(s.session, ["up"], JOB, { ...quiet, warn: (m) => warnings.push(m) }).catch((e) => e);
    expect(err).toBeInstanceOf(PilotError);
    expect(err.message).toMatch(/^Job J3 \(waypoint up of shop\/web\) waited \d+ s for a runner, behind job BUSY \(statusReport, running\), which Waypoint runs first; Pilot cancelled it\.$/);
    expect(warnings).toHaveLength(1); // said once, not on every poll
    expect(warnings[0]).toMatch(/Job J3 has waited \d+ s to start, behind job BUSY/);
    expect(s.calls).toContainEqual(["job", "cancel", "J3"]);
    expect(s.calls).toContainEqual(["stop", s.label()]);
  });

  it("a job no runner takes says so and points at the runner", async () => {
    const s = scriptedSession({ jobs: (label) => [jobJson({ id: "J4", state: "QUEUED", label })] });
    const err = await runWatchedJob(s.session, ["up"], JOB, { ...quiet, warn: () => {} }).catch((e) => e);
    expect(err.message).toMatch(/and no runner has taken it; Pilot cancelled it/);
    expect(err.hint).toMatch(/pilot status/);
  });

  it("a running job is never interrupted, however quiet; nor is a run whose job is not listed yet", async () => {
    let polls = 0;
    let finish: (r: ExecResult) => void = () => {};
    const cli = new Promise<ExecResult>((resolve) => (finish = resolve));
    const s = scriptedSession({
      cli,
      jobs: (label) => {
        if (++polls === 8) finish({ code: 0, stdout: "ok", stderr: "" });
        return polls < 3 ? [] : [jobJson({ id: "J5", state: "RUNNING", label })];
      },
    });
    const r = await runWatchedJob(s.session, ["up"], JOB, { ...quiet, timing: { ...FAST, startTimeoutMs: 50 }, warn: () => {} });
    expect(r).toEqual({ code: 0, stdout: "ok", stderr: "" });
    expect(polls).toBe(8);
    expect(s.calls.some((c) => c[0] === "stop" || c[1] === "cancel")).toBe(false);
  });
});

describe("watchTiming", () => {
  it("defaults, takes PILOT_JOB_START_TIMEOUT in seconds, and refuses anything else", () => {
    expect(watchTiming({}).startTimeoutMs).toBe(600_000);
    expect(watchTiming({ PILOT_JOB_START_TIMEOUT: "20" })).toEqual({ startTimeoutMs: 20_000, quietMs: 5_000, pollMs: 2_500, graceMs: 15_000 });
    expect(() => watchTiming({ PILOT_JOB_START_TIMEOUT: "10m" })).toThrow(/PILOT_JOB_START_TIMEOUT="10m" is not a whole number of seconds/);
  });
});

import { describe, expect, it } from "vitest";
import type { EngineEvent } from "../../../src/engine/types.js";
import { PilotError } from "../../../src/errors.js";
import { RecordingExecutor } from "../../../src/bootstrap/executor-recording.js";
import { runStep } from "../../../src/bootstrap/step-runner.js";
import type { Step } from "../../../src/bootstrap/types.js";

const step = (over: Partial<Step> = {}): Step => ({
  name: "demo",
  description: "make the thing",
  check: [{ argv: ["test", "-e", "/thing"] }],
  apply: [{ argv: ["touch", "/thing"] }],
  ...over,
});

function harness() {
  const events: EngineEvent[] = [];
  let clock = 0;
  return {
    events,
    opts: {
      emit: (e: EngineEvent) => events.push(e),
      sleep: async (ms: number) => {
        clock += ms;
      },
      now: () => clock,
    },
  };
}

describe("runStep", () => {
  it("skips when the check passes: only the check runs", async () => {
    const exec = new RecordingExecutor();
    const h = harness();
    expect(await runStep(exec, step(), h.opts)).toBe("skipped");
    expect(exec.lines()).toEqual(["test -e /thing"]);
    expect(h.events).toEqual([
      { type: "start", key: "bootstrap:demo", action: "check" },
      { type: "done", key: "bootstrap:demo", action: "check" },
    ]);
  });

  it("applies when the check fails, then re-checks", async () => {
    const exec = new RecordingExecutor([{ match: "test -e", result: { code: 1 }, times: 1 }]);
    const h = harness();
    expect(await runStep(exec, step(), h.opts)).toBe("applied");
    expect(exec.lines()).toEqual(["test -e /thing", "touch /thing", "test -e /thing"]);
    expect(h.events.at(-1)).toEqual({ type: "done", key: "bootstrap:demo", action: "update" });
  });

  it("treats an expected-stdout mismatch as not done", async () => {
    const exec = new RecordingExecutor([
      { match: "inspect", result: { stdout: "false abc\n" }, times: 1 },
      { match: "inspect", result: { stdout: "true abc\n" } },
    ]);
    const s = step({ check: [{ argv: ["docker", "inspect", "x"], expect: { stdout: "true abc" } }] });
    expect(await runStep(exec, s, harness().opts)).toBe("applied");
  });

  it("fails with the command and its stderr when apply fails, and emits failed", async () => {
    const exec = new RecordingExecutor([
      { match: "test -e", result: { code: 1 } },
      { match: "touch", result: { code: 2, stderr: "touch: permission denied\n" } },
    ]);
    const h = harness();
    const err = await runStep(exec, step(), h.opts).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PilotError);
    expect((err as Error).message).toBe('bootstrap step "demo": `touch /thing` exited 2: touch: permission denied');
    expect(h.events.at(-1)).toMatchObject({ type: "failed", key: "bootstrap:demo" });
  });

  it("fails when apply succeeds but the check still fails", async () => {
    const exec = new RecordingExecutor([{ match: "test -e", result: { code: 1, stderr: "nope" } }]);
    await expect(runStep(exec, step(), harness().opts)).rejects.toThrow(/applied, but its check still fails \(`test -e \/thing` exited 1: nope\)/);
  });

  it("an empty check list always applies; recheck: false skips the re-check", async () => {
    const exec = new RecordingExecutor();
    expect(await runStep(exec, step({ check: [], recheck: false }), harness().opts)).toBe("applied");
    expect(exec.lines()).toEqual(["touch /thing"]);
  });

  it("dry run: runs checks only and reports what would apply", async () => {
    const exec = new RecordingExecutor([{ match: "test -e", result: { code: 1 } }]);
    const h = harness();
    expect(await runStep(exec, step(), { ...h.opts, dryRun: true })).toBe("would-apply");
    expect(exec.lines()).toEqual(["test -e /thing"]);
    expect(h.events.at(-1)).toEqual({ type: "skipped", key: "bootstrap:demo", reason: "dry run: would make the thing" });
  });

  it("wait steps poll the check with progress until it passes, and count as skipped", async () => {
    const exec = new RecordingExecutor([{ match: "curl", result: { code: 7, stderr: "refused" }, times: 3 }]);
    const h = harness();
    const s = step({ check: [{ argv: ["curl", "https://x/"] }], apply: [], wait: { timeoutMs: 60_000, intervalMs: 1000 } });
    expect(await runStep(exec, s, h.opts)).toBe("skipped");
    expect(exec.lines()).toEqual(Array(4).fill("curl https://x/"));
    expect(h.events.filter((e) => e.type === "progress")).toHaveLength(3);
  });

  it("wait steps give up after their timeout with the last output", async () => {
    const exec = new RecordingExecutor([{ match: "curl", result: { code: 7, stderr: "connection refused" } }]);
    const s = step({ check: [{ argv: ["curl", "https://x/"] }], apply: [], wait: { timeoutMs: 5000, intervalMs: 1000 } });
    await expect(runStep(exec, s, harness().opts)).rejects.toThrow(/still not ready after 5 s .*connection refused/);
  });

  it("retryApply retries a failing apply until it succeeds", async () => {
    const exec = new RecordingExecutor([
      { match: "test -e", result: { code: 1 }, times: 1 },
      { match: "adopt", result: { code: 1, stderr: "runner not found" }, times: 2 },
    ]);
    const s = step({ apply: [{ argv: ["waypoint", "runner", "adopt", "r"] }], retryApply: { timeoutMs: 60_000, intervalMs: 2000 } });
    const h = harness();
    expect(await runStep(exec, s, h.opts)).toBe("applied");
    expect(exec.lines().filter((l) => l.includes("adopt"))).toHaveLength(3);
  });

  it("uploads go to the executor and stdin is recorded only by size", async () => {
    const exec = new RecordingExecutor([{ match: "cat", result: { code: 1 }, times: 1 }]);
    const s = step({
      check: [{ argv: ["cat", "/f"] }],
      apply: [{ upload: "/f", content: "secret", mode: 0o600 }, { argv: ["use"], stdin: "tok\n" }],
      recheck: false,
    });
    await runStep(exec, s, harness().opts);
    expect(exec.lines()).toEqual(["cat /f", "upload /f (mode 0600, 6 bytes)", "use <stdin: 4 bytes>"]);
  });

  it("prepareApply builds the apply only when needed; afterApply sees the results", async () => {
    const exec = new RecordingExecutor([
      { match: "test -e", result: { code: 1 }, times: 1 },
      { match: "print", result: { stdout: "hello\n" } },
    ]);
    let seen = "";
    await runStep(exec, step(), {
      ...harness().opts,
      prepareApply: async () => [{ argv: ["print"] }],
      afterApply: async ([r]) => {
        seen = r!.stdout;
      },
    });
    expect(seen).toBe("hello\n");
    expect(exec.lines()).toEqual(["test -e /thing", "print", "test -e /thing"]);
  });
});

import { describe, expect, it } from "vitest";
import { PilotError } from "../../../src/errors.js";
import {
  actions,
  attempt,
  createOrAdopt,
  describeAction,
  firstOwned,
  formatElapsed,
  orGone,
  retryNotFound,
  sameSet,
  setDelta,
  untilVisible,
  waitFor,
} from "../../../src/providers/scaffold.js";

/** An error shaped like a cloud SDK's: the code in `name`. */
const cloudError = (name: string, message = name) => Object.assign(new Error(message), { name });
const isNotFound = (err: unknown) => (err as Error).name === "NotFound";
const isAlreadyExists = (err: unknown) => (err as Error).name === "AlreadyExists";

/** A clock that moves `step` ms every time it is read, so bounded waits end without sleeping. */
function tickingClock(step: number): () => number {
  let t = 0;
  return () => (t += step);
}

/** Answers in order, one per call (the last repeats); an Error is thrown, anything else returned. */
function sequence<T>(...answers: (T | Error)[]): { fn: () => Promise<T>; calls: () => number } {
  let n = 0;
  return {
    fn: async () => {
      const a = answers[Math.min(n++, answers.length - 1)]!;
      if (a instanceof Error) throw a;
      return a;
    },
    calls: () => n,
  };
}

describe("attempt and actions", () => {
  it("names the action and resource in a wrapped error, and keeps the cause", async () => {
    const act = actions("aws.ec2.vpc", "us-east-1");
    expect(act("create", "vpc")).toBe('create aws.ec2.vpc "vpc" in us-east-1');
    expect(describeAction("read", "gcp.sql.instance", "db", "europe-west1")).toBe('read gcp.sql.instance "db" in europe-west1');
    const cause = cloudError("Throttling", "slow down");
    const err = await attempt(act("create", "vpc"), () => Promise.reject(cause)).catch((e) => e);
    expect(err).toBeInstanceOf(PilotError);
    expect(err.message).toBe('create aws.ec2.vpc "vpc" in us-east-1: Throttling: slow down');
    expect(err.cause).toBe(cause);
    await expect(attempt("x", async () => 42)).resolves.toBe(42);
  });

  it("passes a PilotError through unchanged", async () => {
    const own = new PilotError("already explained", { hint: "do this" });
    await expect(attempt("x", () => Promise.reject(own))).rejects.toBe(own);
  });

  it("formats elapsed times as seconds, then minutes and seconds", () => {
    expect(formatElapsed(0)).toBe("0s");
    expect(formatElapsed(4_400)).toBe("4s");
    expect(formatElapsed(185_000)).toBe("3m05s");
    expect(formatElapsed(-5)).toBe("0s");
  });
});

describe("orGone", () => {
  it("turns the provider's not-found into undefined and lets any other error through", async () => {
    await expect(orGone(isNotFound, () => Promise.reject(cloudError("NotFound")))).resolves.toBeUndefined();
    await expect(orGone(isNotFound, async () => "here")).resolves.toBe("here");
    await expect(orGone(isNotFound, () => Promise.reject(cloudError("AccessDenied")))).rejects.toThrow("AccessDenied");
  });
});

describe("firstOwned", () => {
  it("takes the first listed item, or the first that is ours", () => {
    expect(firstOwned([1, 2, 3])).toBe(1);
    expect(firstOwned([1, 2, 3], (n) => n > 1)).toBe(2);
    expect(firstOwned([1, 2, 3], (n) => n > 3)).toBeUndefined();
    expect(firstOwned([])).toBeUndefined();
    expect(firstOwned(undefined)).toBeUndefined();
  });
});

describe("createOrAdopt", () => {
  const base = {
    action: 'create aws.iam.role "role" in us-east-1',
    name: "an IAM role named pilot-demo-role",
    isAlreadyExists,
    isOurs: (e: { owner: string }) => e.owner === "us",
  };

  it("creates, and never reads the existing resource when the create succeeds", async () => {
    let read = 0;
    const res = await createOrAdopt({ ...base, create: async () => "new", existing: async () => (read++, { owner: "us" }) });
    expect(res).toEqual({ created: "new" });
    expect(read).toBe(0);
  });

  it("adopts what an interrupted run of ours made under the same name", async () => {
    const res = await createOrAdopt({ ...base, create: () => Promise.reject(cloudError("AlreadyExists")), existing: async () => ({ owner: "us" }) });
    expect(res).toEqual({ adopted: { owner: "us" } });
  });

  it("refuses someone else's with a clear message and hint, and never touches it", async () => {
    const taken = cloudError("AlreadyExists", "Role with name pilot-demo-role already exists.");
    const err = await createOrAdopt({
      ...base,
      create: () => Promise.reject(taken),
      existing: async () => ({ owner: "them" }),
      hint: "Delete or rename that role, or use another --name for this stack.",
    }).catch((e) => e);
    expect(err).toBeInstanceOf(PilotError);
    expect(err.message).toBe('create aws.iam.role "role" in us-east-1: an IAM role named pilot-demo-role already exists and does not belong to this stack.');
    expect(err.hint).toBe("Delete or rename that role, or use another --name for this stack.");
    expect(err.cause).toBe(taken);
  });

  it("refuses when the name is taken but the resource cannot be read, with a default hint", async () => {
    const err = await createOrAdopt({ ...base, create: () => Promise.reject(cloudError("AlreadyExists")), existing: async () => undefined }).catch((e) => e);
    expect(err.message).toMatch(/already exists and does not belong to this stack\.$/);
    expect(err.hint).toMatch(/--name/);
  });

  it("wraps any other create error with the action, and a failed lookup too", async () => {
    const denied = await createOrAdopt({ ...base, create: () => Promise.reject(cloudError("AccessDenied", "no")), existing: async () => ({ owner: "us" }) }).catch((e) => e);
    expect(denied.message).toBe('create aws.iam.role "role" in us-east-1: AccessDenied: no');
    const lookup = await createOrAdopt({
      ...base,
      create: () => Promise.reject(cloudError("AlreadyExists")),
      existing: () => Promise.reject(cloudError("Throttling", "slow down")),
    }).catch((e) => e);
    expect(lookup.message).toBe('create aws.iam.role "role" in us-east-1: Throttling: slow down');
  });
});

describe("waitFor", () => {
  it("polls until done, reporting the resource's own status with the elapsed time", async () => {
    const said: string[] = [];
    const states = sequence({ done: false, status: "pending" }, { done: false, status: "pending" }, { done: true, status: "available", value: "v" });
    const value = await waitFor({ pollScale: 0, now: tickingClock(1_000) }, { what: "x", intervalMs: 5_000, timeoutMs: 60_000, progress: (m) => said.push(m) }, states.fn);
    expect(value).toBe("v");
    expect(states.calls()).toBe(3);
    expect(said).toEqual(["pending (1s)", "pending (2s)", "available (3s)"]);
  });

  it("times out with a PilotError that says the cloud may still finish it", async () => {
    const never = async () => ({ done: false, status: "creating" });
    const opts = { what: "database db to be available", intervalMs: 1_000, timeoutMs: 60_000, cloud: "AWS" };
    const err = (await waitFor({ pollScale: 0, now: tickingClock(30_000) }, opts, never).catch((e) => e)) as PilotError;
    expect(err).toBeInstanceOf(PilotError);
    expect(err.message).toBe("Timed out after 1m00s waiting for database db to be available (last status: creating).");
    expect(err.hint).toMatch(/^AWS may still finish it/);
  });
});

describe("untilVisible", () => {
  it("retries a read that does not see a just-created resource yet, then returns it", async () => {
    const reads = sequence<string | undefined>(undefined, undefined, "visible");
    await expect(untilVisible({ pollScale: 0, now: tickingClock(1_000) }, "instance i-1", reads.fn)).resolves.toBe("visible");
    expect(reads.calls()).toBe(3);
  });

  it("gives up after its bound, naming what it waited for", async () => {
    const reads = sequence<string | undefined>(undefined);
    const err = await untilVisible({ pollScale: 0, now: tickingClock(10_000) }, "instance i-1", reads.fn, { timeoutMs: 30_000, cloud: "AWS" }).catch((e) => e);
    expect(err).toBeInstanceOf(PilotError);
    expect(err.message).toMatch(/waiting for instance i-1 to become visible \(last status: not visible yet\)/);
    expect(reads.calls()).toBeGreaterThan(1);
  });
});

describe("retryNotFound", () => {
  it("retries a call that answers not-found right after a create, then returns its answer", async () => {
    const calls = sequence<string>(cloudError("NotFound"), cloudError("NotFound"), "attached");
    const retried: unknown[] = [];
    const res = await retryNotFound({ pollScale: 0, now: tickingClock(1_000) }, isNotFound, calls.fn, { onRetry: (e) => retried.push(e) });
    expect(res).toBe("attached");
    expect(calls.calls()).toBe(3);
    expect(retried).toHaveLength(2);
  });

  it("lets any other error through at once", async () => {
    const calls = sequence<string>(cloudError("AccessDenied"), "never");
    await expect(retryNotFound({ pollScale: 0 }, isNotFound, calls.fn)).rejects.toThrow("AccessDenied");
    expect(calls.calls()).toBe(1);
  });

  it("after its bound, throws the cloud's own not-found error", async () => {
    const missing = cloudError("NotFound", "The security group 'sg-1' does not exist");
    const calls = sequence<string>(missing);
    await expect(retryNotFound({ pollScale: 0, now: tickingClock(10_000) }, isNotFound, calls.fn, { timeoutMs: 30_000 })).rejects.toBe(missing);
    // The clock starts at 10s and each failure reads it: 20s, 30s, then 40s, which is 30s after the start.
    expect(calls.calls()).toBe(3);
  });
});

describe("setDelta and sameSet", () => {
  it("says what to add and what to remove, ignoring order and duplicates", () => {
    expect(setDelta(["a", "b", "c"], ["c", "d"])).toEqual({ missing: ["a", "b"], extra: ["d"], same: false });
    expect(setDelta(["b", "a", "a"], ["a", "b"])).toEqual({ missing: [], extra: [], same: true });
    expect(setDelta([], [])).toEqual({ missing: [], extra: [], same: true });
    expect(sameSet(["sg-2", "sg-1"], ["sg-1", "sg-2"])).toBe(true);
    expect(sameSet(["sg-1"], ["sg-1", "sg-2"])).toBe(false);
  });
});

/**
 * Crash safety of the GCP stack through the real CLI: a run SIGKILLed at a
 * state write, or while Google is still working on a create it sent (the
 * fake's latency for that kind raised so the kill lands mid-operation), is
 * run again and ends with exactly one of each resource, every node created.
 * Adoption rests on what Google offers: requestIds derived from the node's
 * token (Compute), names derived from the token (Cloud SQL), "already exists"
 * plus labels or the ownership note, one connection per network.
 */
import { describe, expect, it } from "vitest";
import { expectNothingLeft, expectOneStack, NODE_KEYS, OFF_AT_START, serialOf, until, useGcpHarness } from "./harness.js";

// Operations finish at once unless a test slows one kind down: a kill lands on a state write or in the
// middle of the one create a test targets, and the many runs here stay quick (the pollers' first
// wait is 250 ms, which the fake's default 50 ms latency would cost at every step of every run).
const h = useGcpHarness("pilot-gcp-crash-", { latencyMs: 0 });

/** What ended a killed run: the serial it left, and whether it was really killed (not finished first). */
interface Killed {
  killed: boolean;
  serial: number;
  creating: string[];
}

/**
 * Starts `pilot up-server` and SIGKILLs it as soon as `when()` says so (polled
 * every 5 ms in this process, which also serves the fake, so a request-based
 * trigger fires while that request's operation is still running).
 */
async function upKilledWhen(stack: string, when: () => boolean, what: string, opts: { shared?: boolean } = {}): Promise<Killed> {
  let pid = 0;
  // A request-based trigger must see this run's requests only; runs sharing the fake keep the log.
  if (!opts.shared) h.gcp.control.clearRequests();
  const run = h.cli.up(stack, [], { onSpawn: (p) => (pid = p) });
  let finished = false;
  void run.then(() => (finished = true));
  await until(() => finished || when(), 60_000, what);
  if (!finished) process.kill(pid, "SIGKILL");
  const r = await run;
  const file = h.cli.stateFile(stack);
  const creating = serialOf(file) > 0 ? Object.entries(h.cli.state(stack).resources).filter(([, x]) => x.status === "creating").map(([k]) => k) : [];
  return { killed: r.code === null, serial: serialOf(file), creating };
}

/** Slows the operations `methodId` starts down to `ms` (so a kill lands while they run), or back to the default. */
function operationLatency(methodId: string, ms?: number): void {
  h.gcp.control.setLatency({ overrides: { [methodId]: ms ?? h.gcp.control.latency().defaultMs } });
}

/** Runs `fn` over `items`, at most `limit` at a time; results in input order. */
async function inParallel<T, R>(items: T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

const atSerial = (stack: string, serial: number) => () => serialOf(h.cli.stateFile(stack)) >= serial;
/** True once the fake has answered a `methodId` call (the log entry is written as the answer goes out). */
const seen = (methodId: string) => () => h.gcp.control.requests({ methodId }).length > 0;

/**
 * True as soon as the next `methodId` call arrives at the fake, which then
 * holds it `holdMs` before carrying it out: a kill on this trigger lands while
 * the call is in flight, before any answer.
 */
function arrives(methodId: string, holdMs: number): () => boolean {
  let arrived = false;
  h.gcp.control.faults.add({ method: methodId, times: 1, delayMs: holdMs, match: () => (arrived = true) });
  return () => arrived;
}

/** Re-runs the stack to completion and checks it is whole, once. */
async function completes(stack: string, note: string): Promise<void> {
  const r = await h.cli.up(stack, ["--json"]);
  expect(r.code, `${stack} (${note}): ${r.stderr}\n${r.stdout}`).toBe(0);
  expect(Object.keys(r.json.resources).sort()).toEqual([...NODE_KEYS].sort());
  expectOneStack(h.gcp, h.cli, stack);
  // What state records is usable, also for what was adopted half-made: the VM running, the
  // database runnable with its private address, the connector ready.
  const res = h.cli.state(stack).resources;
  expect((res.server.out as { status: string }).status, `${stack}: server`).toBe("RUNNING");
  expect(res.db.out, `${stack}: db`).toMatchObject({ state: "RUNNABLE", privateIp: expect.stringMatching(/^10\.43\./) });
  expect((res.connector.out as { state: string }).state, `${stack}: connector`).toBe("READY");
}

describe("crash safety (gcp, fake)", () => {
  it("SIGKILLed once the state serial passes N, and re-run, leaves exactly one of each resource", async () => {
    // The first run writes the password (serial 1), then a write-ahead record and a result per node.
    // Each moment is its own stack, three at a time (their runs mostly wait on Google's operations).
    const moments = [3, 9, 16, 24];
    const outcomes = await inParallel(moments, 3, async (serial, i) => {
      const stack = `gcp-kill${i}`;
      const k = await upKilledWhen(stack, atSerial(stack, serial), `serial ${serial}`, { shared: true });
      await completes(stack, `killed at serial ${k.serial}, interrupted: ${k.creating.join(",") || "none"}`);
      return k;
    });
    // Most kills landed mid-run (a run that finished first proves nothing, but is no failure either).
    expect(outcomes.filter((o) => o.killed).length, JSON.stringify(outcomes)).toBeGreaterThanOrEqual(moments.length - 1);
    expect(outcomes.some((o) => o.creating.length > 0), "some kill left a write-ahead record").toBe(true);
  });

  it("SIGKILLed while Google creates (VM, Cloud SQL, connection, connector) or before its answer arrives (also service account, IAM policy), and re-run, leaves one of each", async () => {
    const cases: { method: string; key: string; opMs?: number; holdMs?: number }[] = [
      // Killed after Google accepted the create, while its operation still runs.
      { method: "compute.instances.insert", key: "server", opMs: 1_500 },
      { method: "sql.instances.insert", key: "db", opMs: 1_500 },
      { method: "servicenetworking.services.connections.create", key: "db-peering", opMs: 1_500 },
      { method: "vpcaccess.projects.locations.connectors.create", key: "connector", opMs: 1_500 },
      // Killed while the call is in flight: Google carries it out, the CLI never sees the answer.
      { method: "iam.projects.serviceAccounts.create", key: "sa-server", holdMs: 300 },
      { method: "cloudresourcemanager.projects.setIamPolicy", key: "roles-server", holdMs: 300 },
    ];
    for (const [i, c] of cases.entries()) {
      const stack = `gcp-mid${i}`;
      const what = `${c.method} (${c.opMs ? "operation running" : "answer not yet sent"})`;
      h.gcp.control.reset();
      for (const s of OFF_AT_START) h.gcp.control.enableApi(s);
      if (c.opMs) operationLatency(c.method, c.opMs);
      const k = await upKilledWhen(stack, c.holdMs ? arrives(c.method, c.holdMs) : seen(c.method), what);
      expect(k.killed, `${what}: the run finished before the kill`).toBe(true);
      // Google got the call exactly once (a held one is carried out after the kill).
      await until(() => h.gcp.control.requests({ methodId: c.method }).length > 0, 5_000, `${c.method} to be carried out`);
      expect(h.gcp.control.requests({ methodId: c.method }).map((q) => q.status), what).toEqual([200]);
      // The kill came after the write-ahead record and before the result: the node is "creating".
      expect(k.creating, what).toContain(c.key);
      if (c.opMs) operationLatency(c.method);
      await completes(stack, `killed during ${what}`);
      const again = h.gcp.control.requests({ methodId: c.method });
      // The re-run adopts what it finds, or repeats the call: Compute's requestId makes it the same
      // request, the other APIs answer "already exists" (and the kinds check the owner first).
      expect(again.length, what).toBeLessThanOrEqual(2);
      if (again.length === 2) expect([200, 409], what).toContain(again[1]!.status);
    }
  });

  it("killed twice in a row, then completed, still leaves one of each", async () => {
    const stack = "gcp-twice";
    const first = await upKilledWhen(stack, atSerial(stack, 6), "serial 6");
    expect(first.killed).toBe(true);
    operationLatency("sql.instances.insert", 1_500);
    const second = await upKilledWhen(stack, seen("sql.instances.insert"), "sql.instances.insert");
    expect(second.killed).toBe(true);
    expect(second.serial).toBeGreaterThan(first.serial);
    operationLatency("sql.instances.insert");
    await completes(stack, "killed twice");
    // A third run is a plain no-op.
    const again = await h.cli.up(stack, ["--json"]);
    expect(again.code, again.stderr).toBe(0);
    expect((again.json.plan as { reason: string }[]).map((c) => c.reason)).toEqual(NODE_KEYS.map(() => "up to date"));
  });

  it("teardown after a killed run removes the half-made resources too", async () => {
    // Killed at a state write, then while Google creates the database, then the VM.
    const kills: [string, () => void, () => boolean][] = [
      ["gcp-td-serial", () => undefined, atSerial("gcp-td-serial", 10)],
      ["gcp-td-sql", () => operationLatency("sql.instances.insert", 1_500), seen("sql.instances.insert")],
      ["gcp-td-vm", () => operationLatency("compute.instances.insert", 1_500), seen("compute.instances.insert")],
    ];
    for (const [stack, slowDown, when] of kills) {
      h.gcp.control.reset();
      for (const s of OFF_AT_START) h.gcp.control.enableApi(s);
      slowDown();
      const k = await upKilledWhen(stack, when, stack);
      expect(k.killed, stack).toBe(true);
      const r = await h.cli.teardown(stack);
      expect(r.code, `${stack} (interrupted: ${k.creating.join(",")}): ${r.stderr}`).toBe(0);
      expectNothingLeft(h.gcp, stack);
    }
  });
});

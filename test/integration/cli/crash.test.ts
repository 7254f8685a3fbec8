/**
 * Crash safety through the real CLI: a run that dies between a create call
 * and its state write is re-run and adopts what it made (moto ignores
 * ClientToken, so adoption rests on tags and deterministic names, as real AWS
 * requires for every create but RunInstances and CreateRouteTable).
 */
import { describe, expect, it } from "vitest";
import type { StackState } from "../../../src/state/schema.js";
import { useCliHarness, expectNothingLeft, expectOneStack, inventory, NODE_KEYS, serialOf, until } from "./helpers.js";

const h = useCliHarness("pilot-cli-crash-");

/** What a crash right after the create call leaves: the write-ahead record, no id, no outputs. */
function rewindToCreating(state: StackState, keys: string[]): StackState {
  for (const key of keys) {
    const r = state.resources[key];
    state.resources[key] = { type: r.type, status: "creating", token: r.token, startedAt: new Date().toISOString(), dependsOn: r.dependsOn };
  }
  return state;
}

/**
 * Starts `pilot up-server` and SIGKILLs it as soon as its state file reaches
 * `serial` (it may have gone a write or two further by then). Resolves to the
 * serial the killed run left, or to undefined if the run finished first.
 */
async function upKilledAt(stack: string, serial: number): Promise<number | undefined> {
  let pid = 0;
  const run = h.cli.up(stack, [], { onSpawn: (p) => (pid = p) });
  let finished = false;
  void run.then(() => (finished = true));
  await until(() => finished || serialOf(h.cli.stateFile(stack)) >= serial, 60_000, `serial ${serial}`);
  if (!finished) process.kill(pid, "SIGKILL");
  const r = await run;
  if (r.code === 0 && r.stdout.includes("up to date")) return undefined;
  expect(r.code).toBeNull(); // killed by the signal
  return serialOf(h.cli.stateFile(stack));
}

describe("crash safety (aws, moto)", () => {
  it("adopts every resource when every entry is a write-ahead record with no id (crash between create and state write)", async () => {
    expect((await h.cli.up("crash-all")).code).toBe(0);
    const ids = h.cli.ids("crash-all");
    const before = await inventory("crash-all");
    h.cli.writeState("crash-all", rewindToCreating(h.cli.state("crash-all"), NODE_KEYS));

    const r = await h.cli.up("crash-all", ["--json"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json.plan.every((c: { action: string; reason: string }) => c.action === "keep" && /adopted/.test(c.reason))).toBe(true);
    for (const key of NODE_KEYS) expect(r.stderr).toContain(`"${key}"`); // "Found ... "key" ... adopting it."
    expect(h.cli.ids("crash-all")).toEqual(ids);
    expect(await inventory("crash-all")).toEqual(before);
    await expectOneStack(h.cli, "crash-all");
  });

  it("adopts a chosen few (instance, database, EIP, instance profile, DB subnet group) and keeps the rest", async () => {
    expect((await h.cli.up("crash-few")).code).toBe(0);
    const ids = h.cli.ids("crash-few");
    const few = ["server", "db", "eip", "profile-server", "db-subnet-group", "route-public", "sg-db"];
    h.cli.writeState("crash-few", rewindToCreating(h.cli.state("crash-few"), few));

    const r = await h.cli.up("crash-few", ["--json"]);
    expect(r.code, r.stderr).toBe(0);
    const adopted = r.json.plan.filter((c: { reason: string }) => /adopted/.test(c.reason)).map((c: { key: string }) => c.key);
    expect(adopted.sort()).toEqual([...few].sort());
    expect(h.cli.ids("crash-few")).toEqual(ids);
    await expectOneStack(h.cli, "crash-few");
    // A third run is a plain no-op again.
    const again = await h.cli.up("crash-few", ["--json"]);
    expect(again.json.plan.map((c: { reason: string }) => c.reason)).toEqual(NODE_KEYS.map(() => "up to date"));
  });

  it("a write-ahead record whose create never reached AWS is created once", async () => {
    expect((await h.cli.up("crash-none")).code).toBe(0);
    const ids = h.cli.ids("crash-none");
    const state = h.cli.state("crash-none");
    // The EIP as if the run died after the write-ahead record but before AllocateAddress: delete the real one.
    const { EC2Client, DisassociateAddressCommand, ReleaseAddressCommand } = await import("@aws-sdk/client-ec2");
    const ec2 = new EC2Client({ region: "us-east-1" });
    try {
      await ec2.send(new DisassociateAddressCommand({ AssociationId: (state.resources.eip.out as { associationId: string }).associationId }));
      await ec2.send(new ReleaseAddressCommand({ AllocationId: ids.eip }));
    } finally {
      ec2.destroy();
    }
    h.cli.writeState("crash-none", rewindToCreating(state, ["eip"]));
    const r = await h.cli.up("crash-none", ["--json"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json.plan.find((c: { key: string }) => c.key === "eip")).toMatchObject({ action: "create", reason: expect.stringMatching(/interrupted/) });
    await expectOneStack(h.cli, "crash-none");
  });

  it("SIGKILLed at several moments and re-run, leaves exactly one of each resource", async () => {
    // The first run writes the password (serial 1), then two writes per node (write-ahead, result): 33 in all.
    const moments = [2, 4, 7, 11, 16, 21, 26, 30];
    const reached: (number | undefined)[] = [];
    for (const [i, serial] of moments.entries()) {
      const stack = `crash-kill${i}`;
      reached.push(await upKilledAt(stack, serial));
      const r = await h.cli.up(stack, ["--json"]);
      expect(r.code, `${stack}: ${r.stderr}\n${r.stdout}`).toBe(0);
      await expectOneStack(h.cli, stack);
    }
    // Most kills landed mid-run (a run that finished first proves nothing, but is no failure either).
    expect(reached.filter((s) => s !== undefined).length).toBeGreaterThanOrEqual(moments.length - 2);
  });

  it("killed twice in a row, then completed, still leaves one of each", async () => {
    const stack = "crash-twice";
    await upKilledAt(stack, 6);
    const second = serialOf(h.cli.stateFile(stack));
    await upKilledAt(stack, second + 8);
    const r = await h.cli.up(stack);
    expect(r.code, r.stderr).toBe(0);
    await expectOneStack(h.cli, stack);
  });

  it("teardown after a killed run removes the half-made resources too", async () => {
    for (const [i, serial] of [5, 12, 24].entries()) {
      const stack = `crash-td${i}`;
      await upKilledAt(stack, serial);
      const creating = Object.values(h.cli.state(stack).resources).filter((r) => r.status === "creating").length;
      const r = await h.cli.teardown(stack);
      expect(r.code, `${stack} (${creating} interrupted): ${r.stderr}`).toBe(0);
      await expectNothingLeft(stack);
    }
  });
});

import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { apply } from "../../../src/engine/apply.js";
import { destroyEntries } from "../../../src/engine/destroy.js";
import { plan } from "../../../src/engine/plan.js";
import { refresh } from "../../../src/engine/refresh.js";
import type { EngineEvent, StackNode } from "../../../src/engine/types.js";
import { StateStore } from "../../../src/state/store.js";
import { MemoryCloud } from "../../support/memory-cloud.js";
import { tempHome } from "../../support/temp-home.js";

let t: ReturnType<typeof tempHome>;
let cloud: MemoryCloud;
let store: StateStore;
let events: EngineEvent[];
const emit = (e: EngineEvent) => events.push(e);

function stackNodes(): StackNode[] {
  return [
    { key: "net", kind: cloud.kind("t.net"), dependsOn: [], spec: () => ({ cidr: "10.0.0.0/16" }) },
    { key: "fw", kind: cloud.kind("t.fw", { diffField: "port", updatable: true }), dependsOn: ["net"], spec: (d) => ({ net: d.net.id, port: 22 }) },
    { key: "db", kind: cloud.kind("t.db"), dependsOn: ["net"], spec: (d) => ({ net: d.net.id }) },
    { key: "vm", kind: cloud.kind("t.vm"), dependsOn: ["fw"], spec: (d) => ({ fw: d.fw.id }) },
  ];
}
const kindsOf = (nodes: StackNode[]) => Object.fromEntries(nodes.map((n) => [n.kind.type, n.kind]));

async function up() {
  const nodes = stackNodes();
  const state = store.current!;
  const observed = await refresh(nodes, state, kindsOf(nodes), { stack: "s", emit });
  const changes = plan({ nodes, resources: state.resources, observed });
  const result = await apply(nodes, changes, observed, { store, stack: "s", emit, kinds: kindsOf(nodes), isRetryableDelete: () => false });
  return { changes, result };
}

beforeEach(() => {
  t = tempHome();
  cloud = new MemoryCloud();
  store = new StateStore(t.home, "s");
  store.init("aws", {});
  events = [];
});
afterEach(() => t.cleanup());

describe("apply", () => {
  it("creates the stack, records ids and outputs, and a second run changes nothing", async () => {
    const first = await up();
    expect(first.result.failed).toEqual([]);
    expect(cloud.resources.size).toBe(4);
    const onDisk = new StateStore(t.home, "s").load()!;
    expect(Object.values(onDisk.resources).map((r) => r.status)).toEqual(["created", "created", "created", "created"]);
    expect(onDisk.resources.vm.out).toMatchObject({ fw: onDisk.resources.fw.id });

    cloud.calls.length = 0;
    const second = await up();
    expect(second.changes.every((c) => c.action === "keep")).toBe(true);
    expect(cloud.resources.size).toBe(4);
    // The re-run costs one read per resource and nothing else.
    expect(cloud.calls.map((c) => c.op).sort()).toEqual(["read", "read", "read", "read"]);
  });

  it("writes ahead a 'creating' record with a token before the create call", async () => {
    const nodes = stackNodes();
    const seenStatus: string[] = [];
    const vm = nodes[3].kind;
    const original = vm.create.bind(vm);
    vm.create = async (spec, ctx) => {
      const onDisk = new StateStore(t.home, "s").load()!;
      seenStatus.push(onDisk.resources.vm.status, onDisk.resources.vm.token === ctx.token ? "same-token" : "other-token");
      return original(spec, ctx);
    };
    const changes = plan({ nodes, resources: {}, observed: {} });
    await apply(nodes, changes, {}, { store, stack: "s", emit, kinds: kindsOf(nodes), isRetryableDelete: () => false });
    expect(seenStatus).toEqual(["creating", "same-token"]);
  });

  it("adopts a resource whose create succeeded but whose state write never happened", async () => {
    cloud.crashAfterCreate.add("t.db");
    const first = await up();
    expect(first.result.failed.map((f) => f.key)).toEqual(["db"]);
    expect(store.current!.resources.db.status).toBe("creating");
    const dbInCloud = [...cloud.resources.values()].filter((r) => r.type === "t.db");
    expect(dbInCloud).toHaveLength(1);

    const second = await up();
    expect(second.result.failed).toEqual([]);
    expect([...cloud.resources.values()].filter((r) => r.type === "t.db")).toHaveLength(1);
    expect(store.current!.resources.db).toMatchObject({ status: "created", id: dbInCloud[0].id });
    expect(events).toContainEqual(expect.objectContaining({ type: "log", message: expect.stringMatching(/adopting/) }));
  });

  it("re-creates a resource deleted out of band, keeping the others", async () => {
    await up();
    const fwId = store.current!.resources.fw.id!;
    const vmId = store.current!.resources.vm.id!;
    cloud.resources.delete(fwId);
    const second = await up();
    expect(second.changes.find((c) => c.key === "fw")!.action).toBe("create");
    expect(store.current!.resources.fw.id).not.toBe(fwId);
    expect(store.current!.resources.vm.id).toBe(vmId);
  });

  it("carries out a planned replace: the old resource is deleted, a new one created and recorded, and its dependents with it", async () => {
    let cidr = "10.0.0.0/16";
    // "sub" can be updated in place, but not moved to another network: that is a replace.
    const subKind = cloud.kind("t.sub", { diffField: "net", updatable: true });
    subKind.diff = (spec, out) => (spec.net === out.net ? { result: "same" } : { result: "replace", reason: "network changed" });
    const nodes = (): StackNode[] => [
      { key: "net", kind: cloud.kind("t.net", { diffField: "cidr" }), dependsOn: [], spec: () => ({ cidr }) },
      { key: "sub", kind: subKind, dependsOn: ["net"], spec: (d) => ({ net: d.net.id }) },
    ];
    const run = async () => {
      const ns = nodes();
      const observed = await refresh(ns, store.current!, kindsOf(ns), { stack: "s", emit });
      const changes = plan({ nodes: ns, resources: store.current!.resources, observed });
      return { changes, result: await apply(ns, changes, observed, { store, stack: "s", emit, kinds: kindsOf(ns), isRetryableDelete: () => false }) };
    };
    await run();
    const old = { net: store.current!.resources.net.id!, sub: store.current!.resources.sub.id! };
    cloud.calls.length = 0;
    cidr = "10.1.0.0/16";
    const { changes, result } = await run();
    expect(result.failed).toEqual([]);
    expect(changes.map((c) => [c.key, c.action])).toEqual([["net", "replace"], ["sub", "replace"]]);
    // Each old one deleted, a new one made; the replaced dependent is not merely updated.
    expect(cloud.calls.filter((c) => c.op === "delete").map((c) => c.id).sort()).toEqual([old.net, old.sub].sort());
    expect(cloud.count("create")).toBe(2);
    expect(cloud.count("update")).toBe(0);
    const onDisk = new StateStore(t.home, "s").load()!;
    expect(onDisk.resources.net).toMatchObject({ status: "created", out: { cidr: "10.1.0.0/16" } });
    expect(onDisk.resources.net.id).not.toBe(old.net);
    expect(onDisk.resources.sub.out).toMatchObject({ net: onDisk.resources.net.id });
    expect([...cloud.resources.keys()].sort()).toEqual([onDisk.resources.net.id, onDisk.resources.sub.id].sort());
    expect(events).toContainEqual(expect.objectContaining({ type: "done", key: "net", action: "replace", id: onDisk.resources.net.id }));
  });

  it("a node planned as kept whose re-created dependency makes it a replace is replaced at apply time, never updated", async () => {
    // "db" can be updated in place, but not moved to another network: that is a replace.
    const dbKind = cloud.kind("t.db", { diffField: "net", updatable: true });
    dbKind.diff = (spec, out) => (spec.net === out.net ? { result: "same" } : { result: "replace", reason: "network changed" });
    const nodes: StackNode[] = [
      { key: "net", kind: cloud.kind("t.net"), dependsOn: [], spec: () => ({ cidr: "10.0.0.0/16" }) },
      { key: "db", kind: dbKind, dependsOn: ["net"], spec: (d) => ({ net: d.net.id }) },
    ];
    const opts = { store, stack: "s", emit, kinds: kindsOf(nodes), isRetryableDelete: () => false };
    await apply(nodes, plan({ nodes, resources: {}, observed: {} }), {}, opts);
    const oldDb = store.current!.resources.db.id!;
    cloud.resources.delete(store.current!.resources.net.id!); // the network vanishes out of band
    const observed = await refresh(nodes, store.current!, kindsOf(nodes), { stack: "s", emit });
    cloud.calls.length = 0;
    // The plan as made before the new network's id was known: the network re-created, the database kept.
    // Apply must diff "db" again with the real id and replace it.
    const result = await apply(
      nodes,
      [
        { key: "net", type: "t.net", action: "create", reason: "deleted outside Pilot" },
        { key: "db", type: "t.db", action: "keep", reason: "up to date", id: oldDb },
      ],
      observed,
      opts,
    );
    expect(result.failed).toEqual([]);
    expect(cloud.count("update")).toBe(0);
    expect(cloud.calls.filter((c) => c.op === "delete").map((c) => c.id)).toEqual([oldDb]);
    const db = store.current!.resources.db;
    expect(db.id).not.toBe(oldDb);
    expect(db.out).toMatchObject({ net: store.current!.resources.net.id });
    expect(cloud.resources.has(oldDb)).toBe(false);
    expect(events).toContainEqual(expect.objectContaining({ type: "done", key: "db", action: "replace", id: db.id }));
  });

  it("an update is made in place, keeping the resource's id", async () => {
    let port = 22;
    const nodes = (): StackNode[] => [{ key: "fw", kind: cloud.kind("t.fw", { diffField: "port", updatable: true }), dependsOn: [], spec: () => ({ port }) }];
    const run = async () => {
      const ns = nodes();
      const observed = await refresh(ns, store.current!, kindsOf(ns), { stack: "s", emit });
      const changes = plan({ nodes: ns, resources: store.current!.resources, observed });
      return { changes, result: await apply(ns, changes, observed, { store, stack: "s", emit, kinds: kindsOf(ns), isRetryableDelete: () => false }) };
    };
    await run();
    const id = store.current!.resources.fw.id;
    port = 2222;
    cloud.calls.length = 0;
    const { changes } = await run();
    expect(changes[0]).toMatchObject({ action: "update", reason: "port changed" });
    expect(cloud.calls.map((c) => c.op)).toEqual(["read", "update"]);
    expect(new StateStore(t.home, "s").load()!.resources.fw).toMatchObject({ id, out: { port: 2222 } });
  });

  it("writes state for a kept resource only when its outputs changed, and says progress with the resource's key", async () => {
    await up();
    const serial = new StateStore(t.home, "s").load()!.serial;
    events.length = 0;
    await up();
    // Nothing changed: no state write at all.
    expect(new StateStore(t.home, "s").load()!.serial).toBe(serial);
    // Outputs changed outside (a tag added by hand, say): recorded, same id.
    const dbId = store.current!.resources.db.id!;
    const tokenBefore = store.current!.resources.db.token;
    cloud.resources.get(dbId)!.spec = { ...cloud.resources.get(dbId)!.spec, extra: "x" };
    await up();
    const onDisk = new StateStore(t.home, "s").load()!;
    expect(onDisk.serial).toBe(serial + 1);
    expect(onDisk.resources.db).toMatchObject({ id: dbId, out: { extra: "x" } });
    // Recording new outputs keeps the resource's idempotency token.
    expect(onDisk.resources.db.token).toBe(tokenBefore);

    // A create's own progress reaches the renderer under its key.
    await destroyEntries(Object.keys(store.current!.resources), { store, stack: "s", emit, kinds: kindsOf(stackNodes()), isRetryableDelete: () => false });
    events.length = 0;
    await up();
    expect(events).toContainEqual({ type: "progress", key: "vm", message: "creating" });
    expect(events).toContainEqual({ type: "start", key: "vm", action: "create" });
  });

  it("a node planned as kept whose apply-time diff finds a change is updated in place, not silently kept", async () => {
    let port = 22;
    const nodes = (): StackNode[] => [{ key: "fw", kind: cloud.kind("t.fw", { diffField: "port", updatable: true }), dependsOn: [], spec: () => ({ port }) }];
    const ns = nodes();
    const opts = { store, stack: "s", emit, kinds: kindsOf(ns), isRetryableDelete: () => false };
    await apply(ns, plan({ nodes: ns, resources: {}, observed: {} }), {}, opts);
    const observed = await refresh(ns, store.current!, kindsOf(ns), { stack: "s", emit });
    const id = store.current!.resources.fw.id!;
    port = 2222;
    cloud.calls.length = 0;
    const r = await apply(ns, [{ key: "fw", type: "t.fw", action: "keep", reason: "up to date", id }], observed, opts);
    expect(r.failed).toEqual([]);
    expect(cloud.calls.map((c) => c.op)).toEqual(["update"]);
    expect(store.current!.resources.fw).toMatchObject({ id, out: { port: 2222 } });
    expect(events).toContainEqual(expect.objectContaining({ type: "done", key: "fw", action: "update", id }));
  });

  it("refuses to keep or update a resource refresh did not see", async () => {
    const ns: StackNode[] = [{ key: "fw", kind: cloud.kind("t.fw", { diffField: "port", updatable: true }), dependsOn: [], spec: () => ({ port: 22 }) }];
    const r = await apply(ns, [{ key: "fw", type: "t.fw", action: "keep", reason: "up to date", id: "fw-9" }], {}, { store, stack: "s", emit, kinds: kindsOf(ns), isRetryableDelete: () => false });
    expect(String((r.failed[0]!.error as Error).message)).toBe('keep t.fw "fw": planned to keep a resource that was not observed');
    expect(cloud.calls).toEqual([]);
  });

  it("deletes what the graph no longer has after the rest is applied, but not when anything failed", async () => {
    await up();
    const vmId = store.current!.resources.vm.id!;
    const withoutVm = () => stackNodes().filter((n) => n.key !== "vm");
    const run = async (nodes: StackNode[]) => {
      const observed = await refresh(nodes, store.current!, kindsOf(stackNodes()), { stack: "s", emit });
      const changes = plan({ nodes, resources: store.current!.resources, observed });
      return { changes, result: await apply(nodes, changes, observed, { store, stack: "s", emit, kinds: kindsOf(stackNodes()), isRetryableDelete: () => false }) };
    };
    // A failure elsewhere keeps the stale entry: deleting while the stack is half-applied could take what is still in use.
    cloud.resources.delete(store.current!.resources.db.id!);
    cloud.failNextCreate.set("t.db", new Error("Throttled"));
    const failed = await run(withoutVm());
    expect(failed.changes.find((c) => c.key === "vm")?.action).toBe("delete");
    expect(failed.result.failed.map((f) => f.key)).toEqual(["db"]);
    expect(cloud.resources.has(vmId)).toBe(true);
    expect(store.current!.resources.vm).toBeDefined();

    const ok = await run(withoutVm());
    expect(ok.result.failed).toEqual([]);
    expect(ok.result.done).toContain("vm");
    expect(cloud.resources.has(vmId)).toBe(false);
    expect(store.current!.resources.vm).toBeUndefined();
  });

  it("a failure is reported as an event with the wrapped message, and a kind that cannot update says so", async () => {
    cloud.failNextCreate.set("t.db", new Error("InvalidParameter: nope"));
    await up();
    expect(events).toContainEqual({ type: "failed", key: "db", error: 'create t.db "db": InvalidParameter: nope' });
    const nodes: StackNode[] = [{ key: "x", kind: cloud.kind("t.x"), dependsOn: [], spec: () => ({}) }];
    await apply(nodes, plan({ nodes, resources: {}, observed: {} }), {}, { store, stack: "s", emit, kinds: kindsOf(nodes), isRetryableDelete: () => false });
    const seen = { x: { status: "present" as const, id: store.current!.resources.x.id!, out: {} } };
    const r = await apply(nodes, [{ key: "x", type: "t.x", action: "update", reason: "r", id: seen.x.id }], seen, { store, stack: "s", emit, kinds: kindsOf(nodes), isRetryableDelete: () => false });
    expect(String((r.failed[0]!.error as Error).message)).toBe('update t.x "x": t.x cannot be updated in place');
  });

  it("reports a failure with the resource named and skips what depends on it", async () => {
    cloud.failNextCreate.set("t.fw", new Error("InvalidParameter: nope"));
    const { result } = await up();
    expect(result.failed.map((f) => f.key)).toEqual(["fw"]);
    expect(String((result.failed[0].error as Error).message)).toBe('create t.fw "fw": InvalidParameter: nope');
    expect(result.skipped).toEqual(["vm"]);
    expect(events).toContainEqual({ type: "skipped", key: "vm", reason: 'upstream "fw" failed' });
    expect(store.current!.resources.db.status).toBe("created");
  });
});

describe("destroyEntries", () => {
  it("deletes in reverse dependency order and empties the state", async () => {
    await up();
    const nodes = stackNodes();
    await destroyEntries(Object.keys(store.current!.resources), { store, stack: "s", emit, kinds: kindsOf(nodes), isRetryableDelete: () => false });
    const order = cloud.calls.filter((c) => c.op === "delete").map((c) => c.type);
    expect(order.indexOf("t.vm")).toBeLessThan(order.indexOf("t.fw"));
    expect(order.indexOf("t.fw")).toBeLessThan(order.indexOf("t.net"));
    expect(order.indexOf("t.db")).toBeLessThan(order.indexOf("t.net"));
    expect(cloud.resources.size).toBe(0);
    expect(new StateStore(t.home, "s").load()!.resources).toEqual({});
  });

  it("retries a dependency violation, then succeeds", async () => {
    await up();
    const violation = Object.assign(new Error("DependencyViolation: still attached"), { name: "DependencyViolation" });
    cloud.deleteErrors.set("t.net", [violation, violation]);
    const nodes = stackNodes();
    const result = await destroyEntries(Object.keys(store.current!.resources), {
      store, stack: "s", emit, kinds: kindsOf(nodes), isRetryableDelete: (e) => (e as Error).name === "DependencyViolation", retryDelaysMs: [1, 1, 1],
    });
    expect(result.failed).toEqual([]);
    expect(cloud.calls.filter((c) => c.op === "delete" && c.type === "t.net")).toHaveLength(3);
  });

  it("removes what an interrupted create left half-made, found by its tags", async () => {
    cloud.crashAfterCreate.add("t.db");
    await up();
    expect(store.current!.resources.db.status).toBe("creating");
    const nodes = stackNodes();
    await destroyEntries(Object.keys(store.current!.resources), { store, stack: "s", emit, kinds: kindsOf(nodes), isRetryableDelete: () => false });
    expect(cloud.resources.size).toBe(0);
  });

  it("stops on a non-retryable error, keeps the entry, and leaves its dependencies", async () => {
    await up();
    cloud.deleteErrors.set("t.fw", [new Error("AccessDenied")]);
    const nodes = stackNodes();
    const result = await destroyEntries(Object.keys(store.current!.resources), { store, stack: "s", emit, kinds: kindsOf(nodes), isRetryableDelete: () => false });
    expect(result.failed.map((f) => f.key)).toEqual(["fw"]);
    expect(result.skipped).toEqual(["net"]);
    expect(Object.keys(store.current!.resources).sort()).toEqual(["fw", "net"]);
  });
});

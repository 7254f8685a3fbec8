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

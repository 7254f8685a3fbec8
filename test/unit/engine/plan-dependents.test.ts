/**
 * The planner replaces a dependent only when its own spec changes (issue 8,
 * point 4): a dependency to be (re)created has its outputs "known after
 * apply" (UNKNOWN) except what its kind knows from the spec, and each
 * dependent's own diff decides; apply diffs again with the real outputs.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { apply } from "../../../src/engine/apply.js";
import { plan, UNKNOWN, type Observed } from "../../../src/engine/plan.js";
import type { DiffResult, ResourceKind, StackNode } from "../../../src/engine/types.js";
import type { ResourceState } from "../../../src/state/schema.js";
import { StateStore } from "../../../src/state/store.js";
import { tempHome } from "../../support/temp-home.js";

/** A kind whose diff says `onChange` when any of `fields` differs; `known` lists fields fixed by the spec. */
function kind(type: string, fields: string[], onChange: DiffResult, known: string[] = [], log: string[] = []): ResourceKind<any, any> {
  let n = 0;
  return {
    type,
    read: async () => undefined,
    find: async () => undefined,
    create: async (spec) => {
      log.push(`create ${type}`);
      const id = `${type}-new${++n}`;
      return { id, out: { id, ...spec } };
    },
    delete: async (id) => void log.push(`delete ${id}`),
    diff: (spec, out) => {
      const changed = fields.find((f) => spec[f] !== out[f]);
      return changed ? { result: onChange, reason: `${changed} ${out[changed]} → ${spec[changed]}` } : { result: "same" };
    },
    update: async (_id, spec, out) => {
      log.push(`update ${type}`);
      return { ...out, ...spec };
    },
    ...(known.length ? { knownOutputs: (spec: any) => Object.fromEntries(known.map((f) => [f, spec[f]])) } : {}),
  };
}

const entry = (type: string, id: string): ResourceState => ({ type, status: "created", token: `tok-${id}`, id, dependsOn: [] });
const present = (id: string, out: Record<string, unknown>): Observed => ({ status: "present", id, out: { id, ...out } });
const actionsOf = (changes: ReturnType<typeof plan>) => Object.fromEntries(changes.map((c) => [c.key, c.action]));

/** server (replaced: its image changed) ← eip (re-associates) and ← dns (names the server's id; must be re-made). */
function serverStack(log: string[] = []) {
  const nodes: StackNode[] = [
    { key: "key", kind: kind("t.key", ["pub"], "replace", ["name"], log), dependsOn: [], spec: () => ({ name: "stack-ssh", pub: "new" }) },
    { key: "server", kind: kind("t.server", ["image"], "replace", [], log), dependsOn: ["key"], spec: (d) => ({ keyName: d.key.name, image: "img-2" }) },
    { key: "eip", kind: kind("t.eip", ["instanceId"], "update", [], log), dependsOn: ["server"], spec: (d) => ({ instanceId: d.server.id }) },
    { key: "note", kind: kind("t.note", ["text"], "replace", [], log), dependsOn: ["server"], spec: () => ({ text: "hello" }) },
  ];
  const resources = { key: entry("t.key", "k1"), server: entry("t.server", "s1"), eip: entry("t.eip", "e1"), note: entry("t.note", "n1") };
  const observed: Record<string, Observed> = {
    key: present("k1", { name: "stack-ssh", pub: "new" }),
    server: present("s1", { keyName: "stack-ssh", image: "img-1" }),
    eip: present("e1", { instanceId: "s1" }),
    note: present("n1", { text: "hello" }),
  };
  return { nodes, resources, observed };
}

describe("plan: dependents of a replaced resource", () => {
  it("an address pointing at a rebuilt server is updated (re-associated), not replaced; an unrelated dependent is kept", () => {
    const { nodes, resources, observed } = serverStack();
    const changes = plan({ nodes, resources, observed });
    expect(actionsOf(changes)).toEqual({ key: "keep", server: "replace", eip: "update", note: "keep" });
    expect(changes.find((c) => c.key === "eip")!.reason).toBe(`instanceId s1 → ${UNKNOWN} (once "server" is replaced)`);
  });

  it("a regenerated key replaces the key only: its name is known from the spec, so the server (and its address) stay", () => {
    const { nodes, resources, observed } = serverStack();
    const plain = nodes.map((n) => (n.key === "server" ? { ...n, spec: (d: any) => ({ keyName: d.key.name, image: "img-1" }) } : n));
    const changes = plan({ nodes: plain, resources, observed: { ...observed, key: present("k1", { name: "stack-ssh", pub: "old" }) } });
    expect(actionsOf(changes)).toEqual({ key: "replace", server: "keep", eip: "keep", note: "keep" });
  });

  it("a dependent whose replace-forcing field comes from the replaced resource is replaced, saying why", () => {
    const { nodes, resources, observed } = serverStack();
    const withAttachment: StackNode[] = [...nodes, { key: "disk", kind: kind("t.disk", ["serverId"], "replace"), dependsOn: ["server"], spec: (d) => ({ serverId: d.server.id }) }];
    const changes = plan({ nodes: withAttachment, resources: { ...resources, disk: entry("t.disk", "d1") }, observed: { ...observed, disk: present("d1", { serverId: "s1" }) } });
    expect(actionsOf(changes).disk).toBe("replace");
    expect(changes.find((c) => c.key === "disk")!.reason).toMatch(/serverId s1 → .* \(once "server" is replaced\)/);
  });

  it("a kind without diff cannot tell, so it is still replaced with its dependency", () => {
    const { nodes, resources, observed } = serverStack();
    const blind = nodes.map((n) => (n.key === "note" ? { ...n, kind: { ...n.kind, diff: undefined } } : n));
    const changes = plan({ nodes: blind, resources, observed });
    expect(actionsOf(changes).note).toBe("replace");
    expect(changes.find((c) => c.key === "note")!.reason).toBe('depends on "server", which is replaced');
  });
});

describe("apply: dependents of a replaced resource", () => {
  let t: ReturnType<typeof tempHome>;
  beforeEach(() => (t = tempHome()));
  afterEach(() => t.cleanup());

  it("rebuilds the server, re-associates the same address with the new one, and leaves the rest alone", async () => {
    const log: string[] = [];
    const { nodes, resources, observed } = serverStack(log);
    const store = new StateStore(t.home, "s");
    store.init("aws", {});
    await store.update((s) => Object.assign(s.resources, resources));
    const changes = plan({ nodes, resources, observed });
    const result = await apply(nodes, changes, observed, { store, stack: "s", emit: () => undefined, kinds: {}, isRetryableDelete: () => false });
    expect(result.failed).toEqual([]);
    expect(log).toEqual(["delete s1", "create t.server", "update t.eip"]);
    expect(store.current!.resources.eip).toMatchObject({ id: "e1", out: { instanceId: "t.server-new1" } });
  });

  it("a replace planned on an unknown output is dropped when the real output turns out the same", async () => {
    const log: string[] = [];
    // The group is re-created (gone) under its deterministic name; its kind does not declare it known.
    const nodes: StackNode[] = [
      { key: "group", kind: kind("t.group", ["name"], "replace", [], log), dependsOn: [], spec: () => ({ name: "grp" }) },
      { key: "db", kind: kind("t.db", ["groupName"], "replace", [], log), dependsOn: ["group"], spec: (d) => ({ groupName: d.group.name }) },
    ];
    const resources = { group: entry("t.group", "g1"), db: entry("t.db", "db1") };
    const observed: Record<string, Observed> = { group: { status: "gone", id: "g1" }, db: present("db1", { groupName: "grp" }) };
    const changes = plan({ nodes, resources, observed });
    expect(actionsOf(changes)).toEqual({ group: "create", db: "replace" });
    const store = new StateStore(t.home, "s");
    store.init("aws", {});
    await store.update((s) => Object.assign(s.resources, resources));
    const result = await apply(nodes, changes, observed, { store, stack: "s", emit: () => undefined, kinds: {}, isRetryableDelete: () => false });
    expect(result.failed).toEqual([]);
    // The database is never deleted: with the group's real name its diff is "same".
    expect(log).toEqual(["create t.group"]);
    expect(store.current!.resources.db!.id).toBe("db1");
  });
});

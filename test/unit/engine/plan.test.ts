import { describe, expect, it } from "vitest";
import { plan, type Observed } from "../../../src/engine/plan.js";
import type { ResourceState } from "../../../src/state/schema.js";
import type { StackNode } from "../../../src/engine/types.js";
import { MemoryCloud } from "../../support/memory-cloud.js";

const cloud = new MemoryCloud();
const vpc = cloud.kind("t.vpc", { diffField: "cidr" });
const sg = cloud.kind("t.sg", { diffField: "cidrs", updatable: true });
const vm = cloud.kind("t.vm", { diffField: "size" });

function nodes(opts: { cidr?: string; cidrs?: string; size?: string } = {}): StackNode[] {
  return [
    { key: "vpc", kind: vpc, dependsOn: [], spec: () => ({ cidr: opts.cidr ?? "10.0.0.0/16" }) },
    { key: "sg", kind: sg, dependsOn: ["vpc"], spec: (d) => ({ vpc: d.vpc.id, cidrs: opts.cidrs ?? "1.2.3.4/32" }) },
    { key: "vm", kind: vm, dependsOn: ["sg"], spec: (d) => ({ sg: d.sg.id, size: opts.size ?? "small" }) },
  ];
}
const entry = (type: string, id: string, status: ResourceState["status"] = "created"): ResourceState => ({
  type, status, token: `tok-${id}`, id: status === "created" ? id : undefined, dependsOn: [],
});
const present = (id: string, out: Record<string, unknown>): Observed => ({ status: "present", id, out: { id, ...out } });
const allPresent = {
  vpc: present("v1", { cidr: "10.0.0.0/16" }),
  sg: present("s1", { vpc: "v1", cidrs: "1.2.3.4/32" }),
  vm: present("m1", { sg: "s1", size: "small" }),
};
const allState = { vpc: entry("t.vpc", "v1"), sg: entry("t.sg", "s1"), vm: entry("t.vm", "m1") };
const actions = (changes: ReturnType<typeof plan>) => Object.fromEntries(changes.map((c) => [c.key, c.action]));

describe("plan", () => {
  const cases: { name: string; nodes: StackNode[]; resources: Record<string, ResourceState>; observed: Record<string, Observed>; want: Record<string, string>; reason?: [string, RegExp] }[] = [
    { name: "empty state creates everything", nodes: nodes(), resources: {}, observed: {}, want: { vpc: "create", sg: "create", vm: "create" }, reason: ["vm", /not yet created/] },
    { name: "matching reality keeps everything", nodes: nodes(), resources: allState, observed: allPresent, want: { vpc: "keep", sg: "keep", vm: "keep" } },
    { name: "a resource deleted out of band is re-created", nodes: nodes(), resources: allState, observed: { ...allPresent, sg: { status: "gone", id: "s1" } }, want: { vpc: "keep", sg: "create", vm: "keep" }, reason: ["sg", /deleted outside Pilot/] },
    { name: "an updatable change updates in place", nodes: nodes({ cidrs: "5.6.7.8/32" }), resources: allState, observed: allPresent, want: { vpc: "keep", sg: "update", vm: "keep" }, reason: ["sg", /cidrs changed/] },
    { name: "a replacement cascades to dependents", nodes: nodes({ cidr: "10.1.0.0/16" }), resources: allState, observed: allPresent, want: { vpc: "replace", sg: "replace", vm: "replace" }, reason: ["vm", /depends on "sg", which is replaced/] },
    { name: "an interrupted create with nothing found is created again", nodes: nodes(), resources: { ...allState, vm: entry("t.vm", "m1", "creating") }, observed: { ...allPresent, vm: { status: "interrupted" } }, want: { vpc: "keep", sg: "keep", vm: "create" }, reason: ["vm", /interrupted/] },
    { name: "an adopted resource is kept", nodes: nodes(), resources: { ...allState, vm: entry("t.vm", "m1", "creating") }, observed: { ...allPresent, vm: { ...allPresent.vm, adopted: true } as Observed }, want: { vpc: "keep", sg: "keep", vm: "keep" }, reason: ["vm", /adopted/] },
    { name: "state entries the graph no longer has are deleted", nodes: nodes().slice(0, 2), resources: allState, observed: allPresent, want: { vpc: "keep", sg: "keep", vm: "delete" }, reason: ["vm", /no longer part/] },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const changes = plan({ nodes: c.nodes, resources: c.resources, observed: c.observed });
      expect(actions(changes)).toEqual(c.want);
      if (c.reason) expect(changes.find((x) => x.key === c.reason![0])!.reason).toMatch(c.reason[1]);
    });
  }

  it("is pure: the same input gives the same plan and touches no cloud", () => {
    const before = cloud.calls.length;
    const a = plan({ nodes: nodes(), resources: allState, observed: allPresent });
    const b = plan({ nodes: nodes(), resources: allState, observed: allPresent });
    expect(a).toEqual(b);
    expect(cloud.calls.length).toBe(before);
  });
  it("carries a kind's disruptive in-place update into the plan, and no other", () => {
    const kind = (disruptive: boolean) => ({
      type: "t.server",
      read: async () => undefined,
      find: async () => undefined,
      create: async () => ({ id: "x", out: {} }),
      delete: async () => {},
      diff: () => ({ result: "update" as const, reason: "size small → large", disruptive }),
    });
    const run = (disruptive: boolean) =>
      plan({ nodes: [{ key: "server", kind: kind(disruptive), dependsOn: [], spec: () => ({}) }], resources: { server: entry("t.server", "x") }, observed: { server: present("x", {}) } })[0];
    expect(run(true)).toMatchObject({ action: "update", disruptive: true });
    expect(run(false)).not.toHaveProperty("disruptive");
  });
});

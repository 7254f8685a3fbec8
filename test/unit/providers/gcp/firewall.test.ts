/**
 * The server's firewall rule (SSH and Waypoint from the allowed ranges only)
 * against an in-memory Compute `firewalls` API: what create sends, what a
 * read makes of a rule changed by hand, what diff calls drift, and that an
 * update puts the whole rule back. The GCP integration tier runs the same kind
 * against the schema-checked fake; these pin the posture itself.
 */
import { describe, expect, it } from "vitest";
import { firewallKind, type FirewallSpec } from "../../../../src/providers/gcp/firewall.js";
import { ownershipNote, requestIdOf, type GcpKindEnv } from "../../../../src/providers/gcp/shared.js";

type Rule = Record<string, any>;
const NET = "https://www.googleapis.com/compute/v1/projects/p/global/networks/pilot-s-net";
const tags = { stack: "s", stackId: "123e4567-e89b-42d3-a456-426614174000", key: "fw-server" };
const spec: FirewallSpec = { name: "pilot-s-1234abcd-server", networkSelfLink: NET, ports: [22, 9701, 9702], sourceRanges: ["203.0.113.9/32"], targetTags: ["pilot-s-server"] };
const notFound = () => Object.assign(new Error("not found"), { status: 404 });

/** A Compute firewalls API over a Map; every call is logged; operations are DONE at once unless told. */
function fakeCompute(opts: { pendingOps?: number } = {}) {
  const rules = new Map<string, Rule>();
  const calls: { method: string; params: Record<string, any> }[] = [];
  let pending = opts.pendingOps ?? 0;
  const op = (name: string) => ({ name, status: pending > 0 ? "RUNNING" : "DONE" });
  const compute = {
    firewalls: {
      get: async (params: Record<string, any>) => {
        calls.push({ method: "get", params });
        const r = rules.get(params.firewall);
        if (!r) throw notFound();
        return { data: structuredClone(r) };
      },
      insert: async (params: Record<string, any>) => {
        calls.push({ method: "insert", params });
        if (rules.has(params.requestBody.name)) throw Object.assign(new Error("exists"), { status: 409, response: { data: { error: { status: "ALREADY_EXISTS", errors: [{ reason: "alreadyExists" }] } } } });
        rules.set(params.requestBody.name, { ...params.requestBody, selfLink: `x/${params.requestBody.name}` });
        return { data: op("op-insert") };
      },
      update: async (params: Record<string, any>) => {
        calls.push({ method: "update", params });
        rules.set(params.firewall, { ...params.requestBody });
        return { data: op("op-update") };
      },
      delete: async (params: Record<string, any>) => {
        calls.push({ method: "delete", params });
        if (!rules.delete(params.firewall)) throw notFound();
        return { data: op("op-delete") };
      },
    },
    globalOperations: {
      get: async (params: Record<string, any>) => {
        calls.push({ method: "globalOperations.get", params });
        pending -= 1;
        return { data: { name: params.operation, status: pending > 0 ? "RUNNING" : "DONE" } };
      },
    },
  };
  const env = { clients: { compute }, project: "p", region: "europe-west1", zone: "europe-west1-b", pollScale: 0 } as unknown as GcpKindEnv;
  return { rules, calls, env };
}
const ctx = (token = "tok-1") => ({ token, tags, progress: () => undefined });
const outOf = (over: Partial<{ network: string; allowed: string[]; sourceRanges: string[]; targetTags: string[]; shape: string }> = {}) => ({
  name: spec.name,
  network: NET,
  allowed: ["tcp:22", "tcp:9701", "tcp:9702"],
  sourceRanges: ["203.0.113.9/32"],
  targetTags: ["pilot-s-server"],
  shape: "INGRESS",
  ...over,
});

describe("gcp firewall rule", () => {
  it("create sends one INGRESS allow rule for the ports, from the ranges, to the tag, marked as the stack's; waits for its operation", async () => {
    const { calls, env } = fakeCompute({ pendingOps: 2 });
    const created = await firewallKind(env).create(spec, ctx());
    const insert = calls.find((c) => c.method === "insert")!;
    expect(insert.params).toEqual({
      project: "p",
      requestId: requestIdOf("tok-1"),
      requestBody: {
        name: spec.name,
        description: ownershipNote("Pilot server: SSH and Waypoint from the allowed ranges only", tags),
        network: NET,
        direction: "INGRESS",
        priority: 1000,
        allowed: [{ IPProtocol: "tcp", ports: ["22", "9701", "9702"] }],
        sourceRanges: ["203.0.113.9/32"],
        targetTags: ["pilot-s-server"],
      },
    });
    // The operation was polled until DONE before the rule was read back.
    const order = calls.map((c) => c.method);
    expect(order.filter((m) => m === "globalOperations.get")).toHaveLength(2);
    expect(order.lastIndexOf("globalOperations.get")).toBeLessThan(order.lastIndexOf("get"));
    expect(created).toEqual({ id: spec.name, out: outOf() });
  });

  it("create adopts a rule of the same name that is ours (a retried create), and refuses one that is not", async () => {
    const { rules, calls, env } = fakeCompute();
    await firewallKind(env).create(spec, ctx());
    calls.length = 0;
    const again = await firewallKind(env).create(spec, ctx());
    expect(again.id).toBe(spec.name);
    expect(calls.map((c) => c.method)).not.toContain("globalOperations.get");
    rules.get(spec.name)!.description = "somebody else's rule";
    await expect(firewallKind(env).create(spec, ctx())).rejects.toThrow(new RegExp(spec.name));
  });

  it("read shows a rule changed by hand as it is: every protocol and port, ranges and tags sorted, its shape", async () => {
    const { rules, env } = fakeCompute();
    rules.set("r", {
      name: "r",
      network: NET,
      allowed: [{ IPProtocol: "tcp", ports: ["9702", "22"] }, { IPProtocol: "udp" }, { IPProtocol: "tcp", ports: ["22"] }],
      sourceRanges: ["198.51.100.0/24", "0.0.0.0/0"],
      targetTags: ["b", "a"],
      direction: "INGRESS",
    });
    expect(await firewallKind(env).read("r", undefined)).toEqual({
      name: "r",
      network: NET,
      allowed: ["tcp:22", "tcp:9702", "udp:all"],
      sourceRanges: ["0.0.0.0/0", "198.51.100.0/24"],
      targetTags: ["a", "b"],
      shape: "INGRESS",
    });
    rules.set("r", { name: "r", network: NET, direction: "EGRESS", disabled: true, denied: [{ IPProtocol: "tcp" }], sourceTags: ["x"] });
    expect((await firewallKind(env).read("r", undefined))!.shape).toBe("EGRESS disabled with deny with other sources");
    rules.set("r", { name: "r", network: NET, sourceServiceAccounts: ["sa@p"] });
    expect(await firewallKind(env).read("r", undefined)).toMatchObject({ shape: "INGRESS with other sources", allowed: [], sourceRanges: [], targetTags: [] });
    expect(await firewallKind(env).read("gone", undefined)).toBeUndefined();
  });

  it("find looks the rule up by its name and takes it only when its description names this stack", async () => {
    const { rules, env } = fakeCompute();
    const kind = firewallKind(env);
    expect(await kind.find(tags, undefined)).toBeUndefined();
    expect(await kind.find(tags, spec)).toBeUndefined();
    await kind.create(spec, ctx());
    expect(await kind.find(tags, spec)).toEqual({ id: spec.name, out: outOf() });
    expect(await kind.find({ ...tags, stackId: "00000000-0000-4000-8000-000000000000" }, spec)).toBeUndefined();
    rules.get(spec.name)!.description = undefined;
    expect(await kind.find(tags, spec)).toBeUndefined();
  });

  it("diff: the same rule is the same, whatever the order of ports, ranges and tags", () => {
    const { env } = fakeCompute();
    const kind = firewallKind(env);
    expect(kind.diff!(spec, outOf())).toEqual({ result: "same" });
    expect(kind.diff!({ ...spec, ports: [9702, 22, 9701] }, outOf())).toEqual({ result: "same" });
  });

  it.each([
    ["another network", { network: "projects/p/global/networks/other" }, { result: "replace", reason: "the network changed" }],
    ["a port opened by hand", { allowed: ["tcp:22", "tcp:80", "tcp:9701", "tcp:9702"] }, { result: "update", reason: "allowed ports tcp:22,tcp:80,tcp:9701,tcp:9702 → tcp:22,tcp:9701,tcp:9702" }],
    ["a range widened by hand", { sourceRanges: ["0.0.0.0/0"] }, { result: "update", reason: "source ranges 0.0.0.0/0 → 203.0.113.9/32" }],
    ["another target tag", { targetTags: ["everyone"] }, { result: "update", reason: "target tags differ" }],
    ["a disabled rule", { shape: "INGRESS disabled" }, { result: "update", reason: "rule is INGRESS disabled" }],
  ])("diff: %s", (_what, drift, want) => {
    const { env } = fakeCompute();
    expect(firewallKind(env).diff!(spec, outOf(drift))).toEqual(want);
  });

  it("diff: new --allow-cidr ranges are an in-place update", () => {
    const { env } = fakeCompute();
    expect(firewallKind(env).diff!({ ...spec, sourceRanges: ["203.0.113.9/32", "198.51.100.7/32"] }, outOf())).toEqual({
      result: "update",
      reason: "source ranges 203.0.113.9/32 → 203.0.113.9/32,198.51.100.7/32",
    });
  });

  it("update puts the whole rule back (keeping its ownership note), waits, and returns it as read", async () => {
    const { rules, calls, env } = fakeCompute();
    const kind = firewallKind(env);
    await kind.create(spec, ctx());
    const note = rules.get(spec.name)!.description;
    rules.set(spec.name, { ...rules.get(spec.name)!, sourceRanges: ["0.0.0.0/0"], allowed: [{ IPProtocol: "tcp" }], disabled: true });
    calls.length = 0;
    const out = await kind.update!(spec.name, { ...spec, sourceRanges: ["198.51.100.7/32"] }, outOf());
    const update = calls.find((c) => c.method === "update")!;
    expect(update.params).toMatchObject({ project: "p", firewall: spec.name });
    expect(update.params.requestBody).toEqual({
      name: spec.name,
      description: note,
      network: NET,
      direction: "INGRESS",
      priority: 1000,
      allowed: [{ IPProtocol: "tcp", ports: ["22", "9701", "9702"] }],
      sourceRanges: ["198.51.100.7/32"],
      targetTags: ["pilot-s-server"],
    });
    expect(out).toEqual(outOf({ sourceRanges: ["198.51.100.7/32"] }));
  });

  it("delete removes the rule and waits; a rule already gone is success", async () => {
    const { rules, calls, env } = fakeCompute();
    const kind = firewallKind(env);
    await kind.create(spec, ctx());
    await kind.delete(spec.name, undefined, { tags, progress: () => undefined });
    expect(rules.has(spec.name)).toBe(false);
    expect(calls.filter((c) => c.method === "delete").map((c) => c.params)).toEqual([{ project: "p", firewall: spec.name }]);
    await expect(kind.delete(spec.name, undefined, { tags, progress: () => undefined })).resolves.toBeUndefined();
  });
});

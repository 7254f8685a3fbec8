import type { compute_v1 } from "googleapis/build/src/apis/compute/v1.js";
import type { ResourceKind } from "../../engine/types.js";
import { isAlreadyExists } from "./errors.js";
import { actions, attempt, createOrAdopt, deleteByOperation, lookupsByName, noteIsOurs, orGone, ownershipNote, requestIdOf, sameSet, waitComputeOp, type GcpKindEnv } from "./shared.js";

/** Desired ingress rule: TCP ports from source ranges to instances with a network tag. */
export interface FirewallSpec {
  name: string;
  networkSelfLink: string;
  ports: number[];
  sourceRanges: string[];
  targetTags: string[];
}

/** A firewall rule as recorded in state (id = name). */
export interface FirewallOut {
  name: string;
  network: string;
  /** "tcp:22" style, sorted; anything added by hand shows as drift. */
  allowed: string[];
  sourceRanges: string[];
  targetTags: string[];
  /** Deny rules, other directions or a disabled rule are drift too. */
  shape: string;
}

const TYPE = "gcp.compute.firewall";

function allowedKeys(allowed: compute_v1.Schema$Firewall["allowed"]): string[] {
  const keys: string[] = [];
  for (const a of allowed ?? []) {
    const ports = a.ports?.length ? a.ports : ["all"];
    for (const p of ports) keys.push(`${a.IPProtocol}:${p}`);
  }
  return [...new Set(keys)].sort();
}

function toOut(f: compute_v1.Schema$Firewall): FirewallOut {
  return {
    name: f.name!,
    network: f.network!,
    allowed: allowedKeys(f.allowed),
    sourceRanges: [...(f.sourceRanges ?? [])].sort(),
    targetTags: [...(f.targetTags ?? [])].sort(),
    shape: `${f.direction ?? "INGRESS"}${f.disabled ? " disabled" : ""}${f.denied?.length ? " with deny" : ""}${f.sourceTags?.length || f.sourceServiceAccounts?.length ? " with other sources" : ""}`,
  };
}

/** The rule's body, the same for insert and for putting a drifted rule back (update replaces it whole). */
function body(spec: FirewallSpec, description: string): compute_v1.Schema$Firewall {
  return {
    name: spec.name,
    description,
    network: spec.networkSelfLink,
    direction: "INGRESS",
    priority: 1000,
    allowed: [{ IPProtocol: "tcp", ports: spec.ports.map(String) }],
    sourceRanges: spec.sourceRanges,
    targetTags: spec.targetTags,
  };
}

/**
 * An ingress firewall rule. Changed ranges (a new --allow-cidr) or a rule
 * widened by hand are put back in place with `update`, which replaces the
 * rule's fields whole, so nothing added out of band survives.
 */
export function firewallKind(env: GcpKindEnv): ResourceKind<FirewallSpec, FirewallOut> {
  const { compute } = env.clients;
  const act = actions(TYPE, "global");
  const get = (name: string) => orGone(async () => (await compute.firewalls.get({ project: env.project, firewall: name })).data);

  return {
    type: TYPE,
    ...lookupsByName<FirewallSpec, compute_v1.Schema$Firewall, FirewallOut>(act, get, toOut, (f, tags) => noteIsOurs(f.description, tags)),
    async create(spec, ctx) {
      const action = act("create", ctx.tags.key);
      const result = await createOrAdopt({
        action,
        name: `firewall rule ${spec.name}`,
        create: async () =>
          (
            await compute.firewalls.insert({
              project: env.project,
              requestId: requestIdOf(ctx.token),
              requestBody: body(spec, ownershipNote("Pilot server: SSH and Waypoint from the allowed ranges only", ctx.tags)),
            })
          ).data,
        isAlreadyExists,
        existing: () => get(spec.name),
        isOurs: (f) => noteIsOurs(f.description, ctx.tags),
      });
      if (result.created) await attempt(action, () => waitComputeOp(env, result.created, { what: `firewall rule ${spec.name}`, progress: ctx.progress }));
      const f = await attempt(action, async () => (await compute.firewalls.get({ project: env.project, firewall: spec.name })).data);
      return { id: spec.name, out: toOut(f) };
    },
    async delete(id, _out, ctx) {
      await deleteByOperation(env, act("delete", ctx.tags.key), `delete firewall rule ${id}`, () => compute.firewalls.delete({ project: env.project, firewall: id }), ctx.progress);
    },
    diff(spec, out) {
      if (spec.networkSelfLink !== out.network) return { result: "replace", reason: "the network changed" };
      const wantAllowed = spec.ports.map((p) => `tcp:${p}`);
      if (!sameSet(wantAllowed, out.allowed)) return { result: "update", reason: `allowed ports ${out.allowed.join(",")} → ${wantAllowed.join(",")}` };
      if (!sameSet(spec.sourceRanges, out.sourceRanges)) return { result: "update", reason: `source ranges ${out.sourceRanges.join(",")} → ${spec.sourceRanges.join(",")}` };
      if (!sameSet(spec.targetTags, out.targetTags)) return { result: "update", reason: "target tags differ" };
      if (out.shape !== "INGRESS") return { result: "update", reason: `rule is ${out.shape}` };
      return { result: "same" };
    },
    async update(id, spec) {
      const action = act("update", id);
      return attempt(action, async () => {
        const current = (await compute.firewalls.get({ project: env.project, firewall: id })).data;
        const op = (await compute.firewalls.update({ project: env.project, firewall: id, requestBody: body(spec, current.description ?? "") })).data;
        await waitComputeOp(env, op, { what: `update firewall rule ${id}` });
        return toOut((await compute.firewalls.get({ project: env.project, firewall: id })).data);
      });
    },
  };
}

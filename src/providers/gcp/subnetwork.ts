import type { compute_v1 } from "googleapis/build/src/apis/compute/v1.js";
import type { ResourceKind } from "../../engine/types.js";
import { isAlreadyExists } from "./errors.js";
import { actions, attempt, createOrAdopt, deleteByOperation, lookupsByName, noteIsOurs, orGone, ownershipNote, requestIdOf, waitComputeOp, type GcpKindEnv } from "./shared.js";

/** Desired subnetwork of the stack's network in the stack's region. */
export interface SubnetworkSpec {
  name: string;
  networkSelfLink: string;
  cidr: string;
}

/** A subnetwork as recorded in state (id = name; the region is the stack's). */
export interface SubnetworkOut {
  name: string;
  selfLink: string;
  network: string;
  cidr: string;
}

const TYPE = "gcp.compute.subnetwork";

function toOut(s: compute_v1.Schema$Subnetwork): SubnetworkOut {
  return { name: s.name!, selfLink: s.selfLink!, network: s.network!, cidr: s.ipCidrRange! };
}

/** The server's subnetwork. Subnetworks take no labels: found by name, owned per its description. */
export function subnetworkKind(env: GcpKindEnv): ResourceKind<SubnetworkSpec, SubnetworkOut> {
  const { compute } = env.clients;
  const act = actions(TYPE, env.region);
  const get = (name: string) =>
    orGone(async () => (await compute.subnetworks.get({ project: env.project, region: env.region, subnetwork: name })).data);

  return {
    type: TYPE,
    ...lookupsByName<SubnetworkSpec, compute_v1.Schema$Subnetwork, SubnetworkOut>(act, get, toOut, (s, tags) => noteIsOurs(s.description, tags)),
    async create(spec, ctx) {
      const action = act("create", ctx.tags.key);
      const result = await createOrAdopt({
        action,
        name: `subnetwork ${spec.name}`,
        create: async () =>
          (
            await compute.subnetworks.insert({
              project: env.project,
              region: env.region,
              requestId: requestIdOf(ctx.token),
              requestBody: {
                name: spec.name,
                description: ownershipNote("Pilot server subnetwork", ctx.tags),
                network: spec.networkSelfLink,
                ipCidrRange: spec.cidr,
                // The VM reaches Google APIs (Artifact Registry, Cloud Run) over Google's network.
                privateIpGoogleAccess: true,
              },
            })
          ).data,
        isAlreadyExists,
        existing: () => get(spec.name),
        isOurs: (s) => noteIsOurs(s.description, ctx.tags),
      });
      if (result.created) await attempt(action, () => waitComputeOp(env, result.created, { what: `subnetwork ${spec.name}`, progress: ctx.progress }));
      const s = await attempt(action, async () => (await compute.subnetworks.get({ project: env.project, region: env.region, subnetwork: spec.name })).data);
      return { id: spec.name, out: toOut(s) };
    },
    async delete(id, _out, ctx) {
      const remove = () => compute.subnetworks.delete({ project: env.project, region: env.region, subnetwork: id });
      await deleteByOperation(env, act("delete", ctx.tags.key), `delete subnetwork ${id}`, remove, ctx.progress);
    },
    diff(spec, out) {
      if (spec.networkSelfLink !== out.network) return { result: "replace", reason: "the network changed" };
      if (spec.cidr !== out.cidr) return { result: "replace", reason: `range ${out.cidr} → ${spec.cidr}` };
      return { result: "same" };
    },
  };
}

import type { compute_v1 } from "googleapis/build/src/apis/compute/v1.js";
import type { ResourceKind } from "../../engine/types.js";
import { actions, attempt, createOrAdopt, deleteByOperation, lookupsByName, noteIsOurs, orGone, ownershipNote, requestIdOf, waitComputeOp, type GcpKindEnv } from "./shared.js";
import { isAlreadyExists } from "./errors.js";

/** Desired VPC network: custom mode (Pilot makes its own subnetwork), by a derived name. */
export interface NetworkSpec {
  name: string;
}

/** A network as recorded in state (id = name). */
export interface NetworkOut {
  name: string;
  selfLink: string;
  /** Peerings by name (Service Networking adds "servicenetworking-googleapis-com"). */
  peerings: string[];
}

const TYPE = "gcp.compute.network";

export function toNetworkOut(n: compute_v1.Schema$Network): NetworkOut {
  return { name: n.name!, selfLink: n.selfLink!, peerings: (n.peerings ?? []).map((p) => p.name!).sort() };
}

/**
 * The stack's custom-mode VPC network. Networks take no labels: it is found
 * by its derived name, and its description says which stack lineage made it.
 */
export function networkKind(env: GcpKindEnv): ResourceKind<NetworkSpec, NetworkOut> {
  const { compute } = env.clients;
  const act = actions(TYPE, "global");
  const get = (name: string) => orGone(async () => (await compute.networks.get({ project: env.project, network: name })).data);

  return {
    type: TYPE,
    ...lookupsByName<NetworkSpec, compute_v1.Schema$Network, NetworkOut>(act, get, toNetworkOut, (n, tags) => noteIsOurs(n.description, tags)),
    async create(spec, ctx) {
      const action = act("create", ctx.tags.key);
      const result = await createOrAdopt({
        action,
        name: `network ${spec.name}`,
        create: async () =>
          (
            await compute.networks.insert({
              project: env.project,
              requestId: requestIdOf(ctx.token),
              requestBody: {
                name: spec.name,
                description: ownershipNote("Pilot network", ctx.tags),
                autoCreateSubnetworks: false,
                routingConfig: { routingMode: "REGIONAL" },
              },
            })
          ).data,
        isAlreadyExists,
        existing: () => get(spec.name),
        isOurs: (n) => noteIsOurs(n.description, ctx.tags),
      });
      if (result.created) await attempt(action, () => waitComputeOp(env, result.created, { what: `network ${spec.name}`, progress: ctx.progress }));
      const n = await attempt(action, async () => (await compute.networks.get({ project: env.project, network: spec.name })).data);
      return { id: spec.name, out: toNetworkOut(n) };
    },
    async delete(id, _out, ctx) {
      await deleteByOperation(env, act("delete", ctx.tags.key), `delete network ${id}`, () => compute.networks.delete({ project: env.project, network: id }), ctx.progress);
    },
    diff(spec, out) {
      return spec.name === out.name ? { result: "same" } : { result: "replace", reason: `name ${out.name} → ${spec.name}` };
    },
  };
}

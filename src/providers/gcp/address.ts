import type { compute_v1 } from "googleapis/build/src/apis/compute/v1.js";
import type { ResourceKind } from "../../engine/types.js";
import { isAlreadyExists } from "./errors.js";
import { actions, attempt, createOrAdopt, deleteByOperation, hasStackLabels, lookupsByName, orGone, requestIdOf, stackLabels, waitComputeOp, type GcpKindEnv } from "./shared.js";

/**
 * Desired reserved address. Regional EXTERNAL: the server's static public
 * address. Global INTERNAL with purpose VPC_PEERING: the range Google's
 * service producers (Cloud SQL) take their private addresses from.
 */
export interface AddressSpec {
  name: string;
  scope: "regional-external" | "global-peering-range";
  /** Peering ranges only: the network and the prefix length (16 = a /16). */
  networkSelfLink?: string;
  prefixLength?: number;
  /** Peering ranges only: the range's first address, so it cannot collide with the address plan. */
  address?: string;
}

/** An address as recorded in state (id = name). */
export interface AddressOut {
  name: string;
  selfLink: string;
  address: string;
  prefixLength?: number;
  network?: string;
  /** RESERVED, or IN_USE once a VM (or a peering) holds it. */
  status: string;
}

function toOut(a: compute_v1.Schema$Address): AddressOut {
  return {
    name: a.name!,
    selfLink: a.selfLink!,
    address: a.address!,
    ...(a.prefixLength ? { prefixLength: a.prefixLength } : {}),
    ...(a.network ? { network: a.network } : {}),
    status: a.status ?? "RESERVED",
  };
}

/**
 * One kind for both reserved-address shapes: the calls differ only in the
 * collection (regional `addresses` or `globalAddresses`), so each shape gets
 * its own type name (teardown and orphans find the right collection by it).
 */
export function addressKind(env: GcpKindEnv, scope: AddressSpec["scope"]): ResourceKind<AddressSpec, AddressOut> {
  const { compute } = env.clients;
  const regional = scope === "regional-external";
  const type = regional ? "gcp.compute.address" : "gcp.compute.global-address";
  const act = actions(type, regional ? env.region : "global");
  const get = (name: string) =>
    orGone(async () =>
      regional
        ? (await compute.addresses.get({ project: env.project, region: env.region, address: name })).data
        : (await compute.globalAddresses.get({ project: env.project, address: name })).data,
    );
  const insert = (requestBody: compute_v1.Schema$Address, requestId: string) =>
    regional
      ? compute.addresses.insert({ project: env.project, region: env.region, requestId, requestBody })
      : compute.globalAddresses.insert({ project: env.project, requestId, requestBody });
  const remove = (name: string) =>
    regional
      ? compute.addresses.delete({ project: env.project, region: env.region, address: name })
      : compute.globalAddresses.delete({ project: env.project, address: name });

  return {
    type,
    ...lookupsByName<AddressSpec, compute_v1.Schema$Address, AddressOut>(act, get, toOut, (a, tags) => hasStackLabels(a.labels, tags)),
    async create(spec, ctx) {
      const action = act("create", ctx.tags.key);
      const body: compute_v1.Schema$Address = regional
        ? { name: spec.name, description: "Pilot server's static address", addressType: "EXTERNAL", networkTier: "PREMIUM", labels: stackLabels(ctx.tags) }
        : {
            name: spec.name,
            description: "Pilot: private services range (Cloud SQL private IP)",
            addressType: "INTERNAL",
            purpose: "VPC_PEERING",
            prefixLength: spec.prefixLength,
            address: spec.address,
            network: spec.networkSelfLink,
            labels: stackLabels(ctx.tags),
          };
      const result = await createOrAdopt({
        action,
        name: `address ${spec.name}`,
        create: async () => (await insert(body, requestIdOf(ctx.token))).data,
        isAlreadyExists,
        existing: () => get(spec.name),
        isOurs: (a) => hasStackLabels(a.labels, ctx.tags),
      });
      if (result.created) await attempt(action, () => waitComputeOp(env, result.created, { what: `address ${spec.name}`, progress: ctx.progress }));
      const a = await attempt(action, async () => (await get(spec.name))!);
      return { id: spec.name, out: toOut(a) };
    },
    async delete(id, _out, ctx) {
      // IN_USE (the VM or the peering still holds it) propagates for the engine to retry.
      await deleteByOperation(env, act("delete", ctx.tags.key), `delete address ${id}`, () => remove(id), ctx.progress);
    },
    diff(spec, out) {
      if (spec.networkSelfLink !== undefined && spec.networkSelfLink !== out.network) return { result: "replace", reason: "the network changed" };
      if (spec.prefixLength !== undefined && spec.prefixLength !== out.prefixLength) {
        return { result: "replace", reason: `prefix /${out.prefixLength} → /${spec.prefixLength}` };
      }
      return { result: "same" };
    },
  };
}

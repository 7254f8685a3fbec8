import type { ResourceKind } from "../../engine/types.js";
import { isBusy } from "./errors.js";
import { actions, attempt, waitComputeOp, waitLro, type GcpKindEnv, type LongRunningOperation } from "./shared.js";

/** Desired private services access: the stack's network peered with Google's service producers. */
export interface ServiceConnectionSpec {
  networkName: string;
  /** Names of the global VPC_PEERING address ranges the producers may use. */
  ranges: string[];
}

/** The connection as recorded in state (id = the network's name). */
export interface ServiceConnectionOut {
  network: string;
  ranges: string[];
  peering: string;
}

const TYPE = "gcp.servicenetworking.connection";
const SERVICE = "services/servicenetworking.googleapis.com";
/** The VPC peering Service Networking makes on the consumer's network. */
export const SERVICE_PEERING = "servicenetworking-googleapis-com";

/**
 * Delays between attempts to delete the connection while Google still says
 * "Producer services (e.g. CloudSQL ...) are still using this connection",
 * which it does for a while after the Cloud SQL instance is gone (Pilot waits about 7
 * minutes in all); then the peering is removed through Compute instead.
 */
export const CONNECTION_DELETE_DELAYS_MS = [5_000, 10_000, 20_000, 40_000, 60_000, 60_000, 60_000, 60_000, 60_000, 60_000];

/**
 * The Service Networking connection that gives Cloud SQL a private address
 * in the stack's network. It takes no labels and there is one per network:
 * the network (ours, by name) identifies it.
 */
export function serviceConnectionKind(env: GcpKindEnv): ResourceKind<ServiceConnectionSpec, ServiceConnectionOut> {
  const { networking, compute } = env.clients;
  const act = actions(TYPE, "global");
  const consumerNetwork = async (name: string) => `projects/${await env.projectNumber()}/global/networks/${name}`;
  const getOp = async (name: string): Promise<LongRunningOperation> => (await networking.operations.get({ name })).data;

  async function lookup(networkName: string): Promise<ServiceConnectionOut | undefined> {
    const network = await consumerNetwork(networkName);
    const res = await networking.services.connections.list({ parent: SERVICE, network });
    const c = (res.data.connections ?? []).find((x) => x.service === SERVICE || x.peering === SERVICE_PEERING);
    return c ? { network: networkName, ranges: [...(c.reservedPeeringRanges ?? [])].sort(), peering: c.peering ?? SERVICE_PEERING } : undefined;
  }

  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms * (env.pollScale ?? 1)));

  return {
    type: TYPE,
    async read(id) {
      return attempt(act("read", id), () => lookup(id));
    },
    async find(tags, spec) {
      if (!spec) return undefined;
      const found = await attempt(act("find", tags.key), () => lookup(spec.networkName));
      return found ? { id: spec.networkName, out: found } : undefined;
    },
    async create(spec, ctx) {
      const action = act("create", ctx.tags.key);
      // One connection per network: one that exists on our network is ours (a crashed run made it).
      const existing = await attempt(action, () => lookup(spec.networkName));
      if (existing) return { id: spec.networkName, out: existing };
      await attempt(action, async () => {
        const op = (await networking.services.connections.create({
          parent: SERVICE,
          requestBody: { network: await consumerNetwork(spec.networkName), reservedPeeringRanges: spec.ranges },
        })).data;
        await waitLro(env, op, getOp, { what: `private services connection on ${spec.networkName}`, progress: ctx.progress, intervalMs: 10_000 });
      });
      return { id: spec.networkName, out: { network: spec.networkName, ranges: [...spec.ranges].sort(), peering: SERVICE_PEERING } };
    },
    async delete(id, _out, ctx) {
      const action = act("delete", ctx.tags.key);
      const network = await attempt(action, () => consumerNetwork(id));
      for (let i = 0; ; i++) {
        try {
          if (!(await attempt(action, () => lookup(id)))) return;
          const op = (await networking.services.connections.deleteConnection({
            name: `${SERVICE}/connections/${SERVICE_PEERING}`,
            requestBody: { consumerNetwork: network },
          })).data;
          await attempt(action, () => waitLro(env, op, getOp, { what: `delete the private services connection on ${id}`, progress: ctx.progress }));
          ctx.progress("deleted the private services connection");
          return;
        } catch (err) {
          if (!isBusy(err)) throw err;
          if (i >= CONNECTION_DELETE_DELAYS_MS.length) break;
          ctx.progress(`Service Networking still refuses (Cloud SQL's hold lingers after deletion); retry ${i + 1} of ${CONNECTION_DELETE_DELAYS_MS.length}`);
          await sleep(CONNECTION_DELETE_DELAYS_MS[i]!);
        }
      }
      // Google's documented way out: without the peering the network can be deleted; the
      // connection's record goes with the network.
      await attempt(action, async () => {
        const op = (await compute.networks.removePeering({ project: env.project, network: id, requestBody: { name: SERVICE_PEERING } })).data;
        await waitComputeOp(env, op, { what: `remove peering ${SERVICE_PEERING} from ${id}`, progress: ctx.progress });
      });
      ctx.progress(`Service Networking kept refusing; removed the VPC peering ${SERVICE_PEERING} instead`);
    },
    diff(spec, out) {
      if (spec.networkName !== out.network) return { result: "replace", reason: "the network changed" };
      return { result: "same" };
    },
  };
}

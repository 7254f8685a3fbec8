/**
 * Service Networking: the private services connection between a VPC network
 * and Google's producer network, which Cloud SQL's private IP needs.
 *
 * - create (parent `services/servicenetworking.googleapis.com`, network by
 *   project NUMBER, ranges that are VPC_PEERING global addresses of that
 *   network) adds the `servicenetworking-googleapis-com` peering to the
 *   compute network when its operation finishes; deleteConnection removes it.
 * - deleteConnection is refused while a Cloud SQL instance still uses the
 *   network, and for `lingeringRefusals` more attempts after the last one is
 *   gone (Google documents that the producer side lets go only after a
 *   while). As on Google, the refusal comes as the *operation's* error
 *   (google.rpc code 9 FAILED_PRECONDITION, "Failed to delete connection;
 *   Producer services (e.g. CloudSQL, Cloud Memstore, etc.) are still using
 *   this connection."); `refusalMode: "immediate"` answers the call itself
 *   with a 400 FAILED_PRECONDITION instead.
 */
import { failedPrecondition, invalid, notFound, GcpError } from "./errors.js";
import { uuid } from "./ids.js";
import { selfLink, type ComputeRecord } from "./compute/store.js";
import type { Call, HandlerTable, Obj } from "./types.js";
import { queryString } from "./types.js";

export const SERVICE = "services/servicenetworking.googleapis.com";
export const PEERING = "servicenetworking-googleapis-com";
const REFUSAL = "Failed to delete connection; Producer services (e.g. CloudSQL, Cloud Memstore, etc.) are still using this connection.";

export interface Connection {
  project: string;
  networkName: string;
  /** `projects/<NUMBER>/global/networks/<name>`, as the API spells it. */
  network: string;
  reservedPeeringRanges: string[];
}

export class NetworkingState {
  /** Established connections, by `project/network`. */
  readonly connections = new Map<string, Connection>();
  lingeringRefusals = 0;
  refusalMode: "operation" | "immediate" = "operation";

  has(project: string, networkName: string): boolean {
    return this.connections.has(`${project}/${networkName}`);
  }

  dropConnection(project: string, networkName: string): void {
    this.connections.delete(`${project}/${networkName}`);
  }

  /** What still uses a VPC_PEERING global address (for compute's delete check). */
  connectionUsingRange(addr: ComputeRecord): string | undefined {
    for (const c of this.connections.values()) {
      if (c.project === addr.project && c.reservedPeeringRanges.includes(addr.name) && addr.resource.network?.endsWith(`/networks/${c.networkName}`)) {
        return `projects/${addr.project}/global/networks/${c.networkName}/peerings/${PEERING}`;
      }
    }
    return undefined;
  }
}

function render(c: Connection): Obj {
  return { network: c.network, reservedPeeringRanges: [...c.reservedPeeringRanges], peering: PEERING, service: SERVICE };
}

/** The producer ("tenant") network Google peers with, stable per consumer project. */
function producerNetwork(call: Call, project: string): string {
  const n = call.world.projects.numberOf(project);
  return selfLink(`projects/${BigInt(n).toString(16)}-tp/global/networks/servicenetworking`);
}

/** Parses `projects/<NUMBER>/global/networks/<name>`; 400 when the project is not given by number. */
function parseNetwork(call: Call, value: unknown, field: string): { project: string; name: string; network: string } {
  const s = typeof value === "string" ? value : "";
  const m = /^projects\/([^/]+)\/global\/networks\/([^/]+)$/.exec(s);
  if (!m) throw invalid(`Invalid network name '${s}': expected projects/{project_number}/global/networks/{network}.`, field);
  if (!/^\d+$/.test(m[1])) {
    throw invalid(`Invalid network name '${s}': the project must be given by its number (projects/{project_number}/global/networks/{network}).`, field);
  }
  return { project: call.world.projects.idOf(m[1]), name: m[2], network: s };
}

function requireService(name: string): void {
  if (name !== SERVICE) throw notFound(`Service '${name.replace(/^services\//, "")}' not found or permission denied.`);
}

function opName(call: Call, project: string): string {
  return `operations/pssn.p24-${call.world.projects.numberOf(project)}-${uuid()}`;
}

/** The network and ranges of a create or patch, checked against compute's state. */
function checkConnection(call: Call): { project: string; name: string; network: string; net: ComputeRecord; ranges: string[] } {
  const w = call.world;
  const { project, name, network } = parseNetwork(call, call.body.network, "network");
  const net = w.compute.get(`projects/${project}/global/networks/${name}`);
  if (!net) throw failedPrecondition(`Network '${network}' not found.`);
  const ranges = (call.body.reservedPeeringRanges ?? []) as string[];
  if (!ranges.length) throw invalid("Reserved peering ranges must not be empty.", "reservedPeeringRanges");
  for (const r of ranges) {
    const addr = w.compute.get(`projects/${project}/global/addresses/${r}`);
    if (!addr || addr.collection !== "globalAddresses" || addr.resource.purpose !== "VPC_PEERING" || addr.resource.network !== net.resource.selfLink) {
      throw failedPrecondition(`Allocated IP range '${r}' not found in network.`);
    }
    if (!addr.ready) throw failedPrecondition(`Allocated IP range '${r}' is not ready.`);
  }
  return { project, name, network, net, ranges };
}

function addPeering(call: Call, net: ComputeRecord, project: string): void {
  const peerings = ((net.resource.peerings ?? []) as Obj[]).filter((p) => p.name !== PEERING);
  peerings.push({
    name: PEERING,
    network: producerNetwork(call, project),
    state: "ACTIVE",
    stateDetails: "[2101] The peering is active.",
    autoCreateRoutes: true,
    exportCustomRoutes: false,
    importCustomRoutes: false,
    exchangeSubnetRoutes: true,
    exportSubnetRoutesWithPublicIp: false,
    importSubnetRoutesWithPublicIp: false,
    stackType: "IPV4_ONLY",
    peerMtu: 1460,
  });
  net.resource.peerings = peerings;
}

function sameSet(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((x) => b.includes(x));
}

export const servicenetworkingHandlers: HandlerTable = {
  "servicenetworking.services.connections.create": (call) => {
    const w = call.world;
    requireService(call.params.parent);
    const { project, name, network, net, ranges } = checkConnection(call);
    const existing = w.networking.connections.get(`${project}/${name}`);
    if (existing && !sameSet(existing.reservedPeeringRanges, ranges)) {
      throw failedPrecondition("Cannot modify allocated ranges in CreateConnection. Please use UpdateConnection.");
    }
    return w.lro.start(call, {
      name: opName(call, project),
      kind: "servicenetworking.connections",
      finish: () => {
        if (!w.compute.get(`projects/${project}/global/networks/${name}`)) throw failedPrecondition(`Network '${network}' not found.`);
        const c: Connection = { project, networkName: name, network, reservedPeeringRanges: [...ranges] };
        w.networking.connections.set(`${project}/${name}`, c);
        addPeering(call, net, project);
        return { "@type": "type.googleapis.com/google.cloud.servicenetworking.v1.Connection", ...render(c) };
      },
    });
  },

  "servicenetworking.services.connections.list": (call) => {
    const w = call.world;
    requireService(call.params.parent);
    const networkParam = queryString(call.query, "network");
    if (!networkParam) throw invalid("network is required: projects/{project_number}/global/networks/{network}.", "network");
    const { project, name } = parseNetwork(call, networkParam, "network");
    const c = w.networking.connections.get(`${project}/${name}`);
    return c ? { connections: [render(c)] } : {};
  },

  "servicenetworking.services.connections.patch": (call) => {
    const w = call.world;
    const [, service, , conn] = /^(services\/[^/]+)\/(connections)\/([^/:]+)/.exec(call.params.name) ?? [];
    requireService(service ?? "");
    if (conn !== PEERING) throw notFound(`Connection '${call.params.name}' not found.`);
    const { project, name, net, ranges } = checkConnection(call);
    const existing = w.networking.connections.get(`${project}/${name}`);
    if (!existing) throw notFound(`Connection for network '${call.body.network}' not found.`);
    return w.lro.start(call, {
      name: opName(call, project),
      kind: "servicenetworking.connections",
      finish: () => {
        existing.reservedPeeringRanges = [...ranges];
        addPeering(call, net, project);
        return { "@type": "type.googleapis.com/google.cloud.servicenetworking.v1.Connection", ...render(existing) };
      },
    });
  },

  /**
   * POST `v1/services/<service>/connections/<peering>` per discovery; clients
   * that follow Google's REST reference append `:deleteConnection`, which
   * routes here too (the name pattern `[^/]+` takes the suffix).
   */
  "servicenetworking.services.connections.deleteConnection": (call) => {
    const w = call.world;
    const m = /^(services\/[^/]+)\/connections\/([^/:]+)(?::deleteConnection)?$/.exec(call.params.name);
    if (!m) throw invalid(`Invalid connection name '${call.params.name}'.`, "name");
    requireService(m[1]);
    if (m[2] !== PEERING) throw notFound(`Connection '${call.params.name}' not found.`);
    if (!call.body.consumerNetwork) throw invalid("consumerNetwork is required.", "consumerNetwork");
    const { project, name } = parseNetwork(call, call.body.consumerNetwork, "consumerNetwork");
    const c = w.networking.connections.get(`${project}/${name}`);
    if (!c) throw notFound(`Connection for network '${call.body.consumerNetwork}' not found.`);
    let refuse = w.sql.instancesUsingNetwork(project, name).length > 0;
    if (!refuse && w.networking.lingeringRefusals > 0) {
      w.networking.lingeringRefusals--;
      refuse = true;
    }
    if (refuse && w.networking.refusalMode === "immediate") throw failedPrecondition(REFUSAL);
    return w.lro.start(call, {
      name: opName(call, project),
      kind: "servicenetworking.connections",
      finish: () => {
        if (refuse) throw new GcpError(400, REFUSAL, { status: "FAILED_PRECONDITION" });
        w.networking.dropConnection(project, name);
        const net = w.compute.get(`projects/${project}/global/networks/${name}`);
        if (net) {
          net.resource.peerings = ((net.resource.peerings ?? []) as Obj[]).filter((p) => p.name !== PEERING);
          if (!net.resource.peerings.length) delete net.resource.peerings;
        }
        return { "@type": "type.googleapis.com/google.protobuf.Empty" };
      },
    });
  },

  "servicenetworking.operations.get": (call) => call.world.lro.get("servicenetworking", call.params.name),
};


/**
 * compute networks: insert/get/list/delete and removePeering. A network's
 * `subnetworks[]` and `peerings[]` are kept current by the subnetwork
 * handlers and by Service Networking (which adds the
 * `servicenetworking-googleapis-com` peering when a private services
 * connection is made). Delete is refused while anything still uses the
 * network, as compute refuses it.
 */
import { invalid } from "../errors.js";
import type { Call, HandlerTable } from "../types.js";
import { deleteRecord, insertRecord, listResponse, newRecord, projectOf, render, updateRecord } from "./common.js";
import { GLOBAL, resourcePath, type ComputeRecord } from "./store.js";

/** What still uses a network (the first thing found), or undefined. */
export function networkUser(call: Call, net: ComputeRecord): string | undefined {
  const w = call.world;
  const link = net.resource.selfLink as string;
  for (const r of w.compute.all()) {
    if (r === net) continue;
    if (r.collection === "subnetworks" && r.resource.network === link) return w.compute.pathOf(r);
    if (r.collection === "firewalls" && r.resource.network === link) return w.compute.pathOf(r);
    if (r.collection === "globalAddresses" && r.resource.network === link) return w.compute.pathOf(r);
    if (r.collection === "instances" && (r.resource.networkInterfaces ?? []).some((n: { network?: string }) => n.network === link)) {
      return w.compute.pathOf(r);
    }
  }
  const peering = (net.resource.peerings ?? [])[0] as { name: string; network: string } | undefined;
  if (peering) return peering.network.replace(/^https:\/\/www\.googleapis\.com\/compute\/v1\//, "");
  const connector = w.vpc.connectorUsingNetwork(net.project, net.name);
  if (connector) return connector;
  return undefined;
}

export const networkHandlers: HandlerTable = {
  "compute.networks.insert": (call) => {
    const r = newRecord(call, "networks", call.body);
    if (r.resource.IPv4Range !== undefined && r.resource.autoCreateSubnetworks !== undefined) {
      throw invalid("Invalid value for field 'resource.IPv4Range': 'IPv4Range' cannot be set on a subnet mode network.", "IPv4Range");
    }
    r.resource.selfLinkWithId = r.resource.selfLink.replace(/[^/]+$/, r.id);
    r.resource.mtu ??= 1460;
    r.resource.routingConfig ??= { routingMode: "REGIONAL", bgpBestPathSelectionMode: "LEGACY" };
    r.resource.networkFirewallPolicyEnforcementOrder ??= "AFTER_CLASSIC_FIREWALL";
    delete r.resource.subnetworks;
    return insertRecord(call, r);
  },

  "compute.networks.get": (call) => render(call.world.compute.require("networks", projectOf(call), GLOBAL, call.params.network)),

  "compute.networks.list": (call) => listResponse(call, "networks", "compute#networkList"),

  "compute.networks.delete": (call) => {
    const net = call.world.compute.require("networks", projectOf(call), GLOBAL, call.params.network);
    return deleteRecord(call, net, networkUser(call, net));
  },

  "compute.networks.removePeering": (call) => {
    const w = call.world;
    const net = w.compute.require("networks", projectOf(call), GLOBAL, call.params.network);
    const name = String(call.body.name ?? "");
    const peerings = (net.resource.peerings ?? []) as { name: string }[];
    if (!peerings.some((p) => p.name === name)) {
      throw invalid(
        `Invalid value for field 'networksRemovePeeringRequest.name': '${name}'. There is no peering with name '${name}' in network '${resourcePath("networks", net.project, GLOBAL, net.name)}'.`,
        "name",
      );
    }
    return updateRecord(call, net, "removePeering", () => {
      net.resource.peerings = (net.resource.peerings ?? []).filter((p: { name: string }) => p.name !== name);
      if (!net.resource.peerings.length) delete net.resource.peerings;
      if (name === "servicenetworking-googleapis-com") w.networking.dropConnection(net.project, net.name);
    });
  },
};

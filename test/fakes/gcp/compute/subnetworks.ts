/**
 * compute subnetworks (regional): insert/get/list/delete, aggregatedList.
 * The range must be a valid CIDR and must not overlap another subnetwork of
 * the network nor a range allocated to private services (VPC_PEERING global
 * addresses); addresses in it are handed out to instances in order.
 */
import { invalid } from "../errors.js";
import { formatIp, overlaps, parseCidr } from "../ip.js";
import type { Call, HandlerTable } from "../types.js";
import { fingerprintOf } from "../ids.js";
import { aggregatedResponse, deleteRecord, insertRecord, listResponse, newRecord, projectOf, render, scopeOf } from "./common.js";
import { selfLink, type ComputeRecord } from "./store.js";

/** What still uses a subnetwork: an instance's interface, an internal address, a VPC connector. */
export function subnetworkUser(call: Call, sub: ComputeRecord): string | undefined {
  const w = call.world;
  const link = sub.resource.selfLink as string;
  for (const r of w.compute.all()) {
    if (r.collection === "instances" && (r.resource.networkInterfaces ?? []).some((n: { subnetwork?: string }) => n.subnetwork === link)) {
      return w.compute.pathOf(r);
    }
    if (r.collection === "addresses" && r.resource.subnetwork === link) return w.compute.pathOf(r);
  }
  return w.vpc.connectorUsingSubnet(sub.project, sub.name);
}

export const subnetworkHandlers: HandlerTable = {
  "compute.subnetworks.insert": (call) => {
    const w = call.world;
    const r = newRecord(call, "subnetworks", call.body);
    const project = r.project;
    if (!r.name) throw invalid("Invalid value for field 'resource.name': ''. Must be a match of regex '[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?'", "name");
    if (!r.resource.network) throw invalid("Invalid value for field 'resource.network': ''. The referenced network resource cannot be found.", "network");
    const net = w.compute.resolve(r.resource.network, "networks", project, "resource.network");
    const range = parseCidr(String(r.resource.ipCidrRange ?? ""));
    if (!range) {
      throw invalid(`Invalid value for field 'resource.ipCidrRange': '${r.resource.ipCidrRange ?? ""}'. Invalid IPCidrRange: ${r.resource.ipCidrRange ?? ""}.`, "ipCidrRange");
    }
    if (range.prefix > 29 || range.prefix < 8) {
      throw invalid(`Invalid value for field 'resource.ipCidrRange': '${range.text}'. Subnetwork prefix length must be between 8 and 29.`, "ipCidrRange");
    }
    for (const other of w.compute.all()) {
      if (other.resource.network !== net.resource.selfLink) continue;
      const otherRange =
        other.collection === "subnetworks"
          ? parseCidr(other.resource.ipCidrRange)
          : other.collection === "globalAddresses" && other.resource.purpose === "VPC_PEERING"
            ? parseCidr(`${other.resource.address}/${other.resource.prefixLength}`)
            : undefined;
      if (otherRange && overlaps(range, otherRange)) {
        throw invalid(
          `Invalid value for field 'resource.ipCidrRange': '${range.text}'. Invalid IPCidrRange: ${range.text} conflicts with existing ${other.collection === "subnetworks" ? "subnetwork" : "address range"} '${other.name}' in region '${other.scope.kind === "region" ? other.scope.name : "global"}'.`,
          "ipCidrRange",
        );
      }
    }
    r.resource.network = net.resource.selfLink;
    r.resource.gatewayAddress = formatIp(range.base + 1);
    r.resource.fingerprint = fingerprintOf({ n: r.name, t: r.resource.creationTimestamp });
    r.resource.privateIpGoogleAccess ??= false;
    r.resource.stackType ??= "IPV4_ONLY";
    r.resource.purpose ??= "PRIVATE";
    const out = insertRecord(call, r);
    net.resource.subnetworks = [...(net.resource.subnetworks ?? []), r.resource.selfLink];
    return out;
  },

  "compute.subnetworks.get": (call) =>
    render(call.world.compute.require("subnetworks", projectOf(call), scopeOf(call), call.params.subnetwork)),

  "compute.subnetworks.list": (call) => listResponse(call, "subnetworks", "compute#subnetworkList"),

  "compute.subnetworks.aggregatedList": (call) => aggregatedResponse(call, "subnetworks", "compute#subnetworkAggregatedList", "subnetworks"),

  "compute.subnetworks.delete": (call) => {
    const w = call.world;
    const sub = w.compute.require("subnetworks", projectOf(call), scopeOf(call), call.params.subnetwork);
    return deleteRecord(call, sub, subnetworkUser(call, sub), () => {
      const net = w.compute.get(String(sub.resource.network).replace(selfLink(""), ""));
      if (net) {
        net.resource.subnetworks = (net.resource.subnetworks ?? []).filter((l: string) => l !== sub.resource.selfLink);
        if (!net.resource.subnetworks.length) delete net.resource.subnetworks;
      }
    });
  },
};

/**
 * compute addresses, regional (`addresses`: static external IPs, internal
 * IPs in a subnetwork) and global (`globalAddresses`: notably the
 * VPC_PEERING ranges allocated to private services). Both take labels and
 * setLabels with compute's labelFingerprint check. An external address
 * named as an instance's natIP is IN_USE (users[] = the instance) and cannot
 * be deleted; a VPC_PEERING range named by a private services connection
 * cannot be deleted either.
 */
import { conditionNotMet, invalid, required } from "../errors.js";
import { formatIp, freeBlock, nextFreeHost, overlaps, parseCidr, parseIp, type Cidr } from "../ip.js";
import type { Call, HandlerTable, Obj } from "../types.js";
import {
  aggregatedResponse,
  deleteRecord,
  insertRecord,
  listResponse,
  newRecord,
  projectOf,
  render,
  scopeOf,
  updateRecord,
} from "./common.js";
import { GLOBAL, checkLabels, labelFingerprint, type ComputeRecord } from "./store.js";

/** Where ephemeral and static external IPs come from (documentation ranges: never routable). */
const EXTERNAL_POOLS = ["203.0.113.0/24", "198.51.100.0/24", "192.0.2.0/24"].map((c) => parseCidr(c)!);

/** The next external IP not held by an address or an instance's access config. */
export function allocateExternalIp(call: Call): string {
  const used = new Set<string>();
  for (const r of call.world.compute.all()) {
    if (r.collection === "addresses" || r.collection === "globalAddresses") used.add(r.resource.address);
    if (r.collection === "instances") {
      for (const nic of r.resource.networkInterfaces ?? []) for (const ac of nic.accessConfigs ?? []) if (ac.natIP) used.add(ac.natIP);
    }
  }
  for (const pool of EXTERNAL_POOLS) {
    const ip = nextFreeHost(pool, used);
    if (ip) return ip;
  }
  throw invalid("The fake ran out of external IP addresses; reset it.");
}

/** Internal IPs in use in a subnetwork (instances' networkIP, internal addresses). */
export function usedInternalIps(call: Call, subnetLink: string): Set<string> {
  const used = new Set<string>();
  for (const r of call.world.compute.all()) {
    if (r.collection === "addresses" && r.resource.subnetwork === subnetLink) used.add(r.resource.address);
    if (r.collection === "instances") {
      for (const nic of r.resource.networkInterfaces ?? []) if (nic.subnetwork === subnetLink && nic.networkIP) used.add(nic.networkIP);
    }
  }
  return used;
}

function finishLabels(r: ComputeRecord): void {
  r.resource.labels = checkLabels(r.resource.labels);
  if (!Object.keys(r.resource.labels).length) delete r.resource.labels;
  r.resource.labelFingerprint = labelFingerprint(r.resource.labels ?? {});
}

function insertRegional(call: Call): Obj {
  const w = call.world;
  const r = newRecord(call, "addresses", call.body);
  const res = r.resource;
  res.addressType ??= "EXTERNAL";
  res.ipVersion ??= "IPV4";
  if (res.addressType === "INTERNAL") {
    if (!res.subnetwork) throw invalid("Invalid value for field 'resource.subnetwork': ''. A subnetwork must be specified for an internal address.", "subnetwork");
    const sub = w.compute.resolve(res.subnetwork, "subnetworks", r.project, "resource.subnetwork");
    if (sub.scope.kind !== "region" || r.scope.kind !== "region" || sub.scope.name !== r.scope.name) {
      throw invalid(`Invalid value for field 'resource.subnetwork': '${res.subnetwork}'. The subnetwork must be in region '${r.scope.kind === "region" ? r.scope.name : ""}'.`, "subnetwork");
    }
    res.subnetwork = sub.resource.selfLink;
    const range = parseCidr(sub.resource.ipCidrRange)!;
    const used = usedInternalIps(call, sub.resource.selfLink);
    if (res.address) {
      const ip = parseIp(res.address);
      if (ip === undefined || ip < range.base || ip >= range.base + 2 ** (32 - range.prefix)) {
        throw invalid(`Invalid value for field 'resource.address': '${res.address}'. Requested internal IP is outside the subnetwork CIDR range.`, "address");
      }
      if (used.has(res.address)) throw invalid(`Invalid value for field 'resource.address': '${res.address}'. IP '${res.address}' is already being used by another resource.`, "address");
    } else {
      res.address = nextFreeHost(range, used);
    }
    res.purpose ??= "GCE_ENDPOINT";
  } else {
    res.networkTier ??= "PREMIUM";
    res.address ??= allocateExternalIp(call);
  }
  res.status = "RESERVED";
  finishLabels(r);
  return insertRecord(call, r);
}

function insertGlobal(call: Call): Obj {
  const w = call.world;
  const r = newRecord(call, "globalAddresses", call.body);
  const res = r.resource;
  res.ipVersion ??= "IPV4";
  if (res.purpose === "VPC_PEERING") {
    if (res.addressType !== "INTERNAL") {
      throw invalid(`Invalid value for field 'resource.addressType': '${res.addressType ?? ""}'. Address type must be INTERNAL for purpose VPC_PEERING.`, "addressType");
    }
    if (!res.network) throw invalid("Invalid value for field 'resource.network': ''. A network must be specified for purpose VPC_PEERING.", "network");
    const net = w.compute.resolve(res.network, "networks", r.project, "resource.network");
    res.network = net.resource.selfLink;
    const prefix = res.prefixLength;
    if (typeof prefix !== "number" || prefix < 8 || prefix > 29) {
      throw invalid(`Invalid value for field 'resource.prefixLength': '${prefix ?? ""}'. Prefix length must be between 8 and 29 for purpose VPC_PEERING.`, "prefixLength");
    }
    const taken: Cidr[] = [];
    for (const o of w.compute.all()) {
      if (o.resource.network !== net.resource.selfLink) continue;
      if (o.collection === "subnetworks") taken.push(parseCidr(o.resource.ipCidrRange)!);
      if (o.collection === "globalAddresses" && o.resource.purpose === "VPC_PEERING") taken.push(parseCidr(`${o.resource.address}/${o.resource.prefixLength}`)!);
    }
    if (res.address) {
      const block = parseCidr(`${res.address}/${prefix}`);
      if (!block) throw invalid(`Invalid value for field 'resource.address': '${res.address}'. The address must be the first address of a /${prefix} range.`, "address");
      const clash = taken.find((t) => overlaps(t, block));
      if (clash) throw invalid(`Invalid value for field 'resource.address': '${res.address}'. The range ${block.text} overlaps ${clash.text} in network '${net.name}'.`, "address");
    } else {
      const block = freeBlock(parseCidr("10.0.0.0/8")!, prefix, taken);
      if (!block) throw invalid(`No free /${prefix} range left in 10.0.0.0/8 for network '${net.name}'.`);
      res.address = formatIp(block.base);
    }
  } else {
    res.addressType ??= "EXTERNAL";
    if (res.addressType === "EXTERNAL") {
      res.networkTier ??= "PREMIUM";
      res.address ??= allocateExternalIp(call);
    }
  }
  res.status = "RESERVED";
  finishLabels(r);
  return insertRecord(call, r);
}

/** setLabels for both kinds: the fingerprint must be the current one (412 otherwise), as compute requires. */
function setLabels(call: Call, r: ComputeRecord): Obj {
  const fp = call.body.labelFingerprint;
  if (fp === undefined || fp === null || fp === "") {
    throw required("Required field 'labelFingerprint' not specified", "labelFingerprint");
  }
  if (fp !== r.resource.labelFingerprint) {
    throw conditionNotMet("Labels fingerprint either invalid or resource labels have changed");
  }
  const labels = checkLabels(call.body.labels);
  return updateRecord(call, r, "setLabels", () => {
    if (Object.keys(labels).length) r.resource.labels = labels;
    else delete r.resource.labels;
    r.resource.labelFingerprint = labelFingerprint(labels);
  });
}

export const addressHandlers: HandlerTable = {
  "compute.addresses.insert": insertRegional,
  "compute.addresses.get": (call) => render(call.world.compute.require("addresses", projectOf(call), scopeOf(call), call.params.address)),
  "compute.addresses.list": (call) => listResponse(call, "addresses", "compute#addressList"),
  "compute.addresses.aggregatedList": (call) => aggregatedResponse(call, "addresses", "compute#addressAggregatedList", "addresses"),
  "compute.addresses.delete": (call) => {
    const r = call.world.compute.require("addresses", projectOf(call), scopeOf(call), call.params.address);
    const user = (r.resource.users ?? [])[0] as string | undefined;
    return deleteRecord(call, r, user?.replace(/^https:\/\/www\.googleapis\.com\/compute\/v1\//, ""));
  },
  "compute.addresses.setLabels": (call) =>
    setLabels(call, call.world.compute.require("addresses", projectOf(call), scopeOf(call), call.params.resource)),

  "compute.globalAddresses.insert": insertGlobal,
  "compute.globalAddresses.get": (call) => render(call.world.compute.require("globalAddresses", projectOf(call), GLOBAL, call.params.address)),
  "compute.globalAddresses.list": (call) => listResponse(call, "globalAddresses", "compute#addressList"),
  "compute.globalAddresses.delete": (call) => {
    const w = call.world;
    const r = w.compute.require("globalAddresses", projectOf(call), GLOBAL, call.params.address);
    return deleteRecord(call, r, w.networking.connectionUsingRange(r));
  },
  "compute.globalAddresses.setLabels": (call) =>
    setLabels(call, call.world.compute.require("globalAddresses", projectOf(call), GLOBAL, call.params.resource)),
};

/**
 * compute firewalls: insert/get/list/delete, patch (JSON merge patch) and
 * update (full replacement). Rules get compute's defaults (INGRESS, priority
 * 1000, the default network when none is named) and its checks: exactly one
 * of allowed/denied, a protocol on each entry, valid ranges and ports; the
 * network cannot be changed afterwards.
 */
import { invalid } from "../errors.js";
import { parseCidr, parseIp } from "../ip.js";
import type { Call, HandlerTable, Obj } from "../types.js";
import { clientFields, deleteRecord, insertRecord, listResponse, mergePatch, newRecord, projectOf, render, updateRecord } from "./common.js";
import { GLOBAL, type ComputeRecord } from "./store.js";

function checkRanges(list: unknown, field: string): void {
  for (const [i, r] of ((list as string[]) ?? []).entries()) {
    if (!parseCidr(r) && parseIp(r) === undefined) {
      throw invalid(`Invalid value for field 'resource.${field}[${i}]': '${r}'. Must be a valid IPV4 or IPV6 CIDR range.`, `${field}[${i}]`);
    }
  }
}

function checkRules(list: unknown, field: string): void {
  for (const [i, rule] of ((list as Obj[]) ?? []).entries()) {
    if (!rule.IPProtocol) throw invalid(`Required field 'resource.${field}[${i}].IPProtocol' not specified`, `${field}[${i}].IPProtocol`, "required");
    for (const [j, p] of ((rule.ports as string[]) ?? []).entries()) {
      const m = /^(\d+)(?:-(\d+))?$/.exec(p);
      if (!m || Number(m[1]) > 65535 || (m[2] !== undefined && (Number(m[2]) > 65535 || Number(m[2]) < Number(m[1])))) {
        throw invalid(`Invalid value for field 'resource.${field}[${i}].ports[${j}]': '${p}'. Invalid port specification.`, `${field}[${i}].ports[${j}]`);
      }
    }
  }
}

/** Checks and normalizes a full firewall body (insert, update, or the result of a patch). */
function normalize(call: Call, fw: Obj, project: string, existing?: ComputeRecord): Obj {
  const w = call.world;
  const network = fw.network ?? "global/networks/default";
  const net = w.compute.resolve(network, "networks", project, "resource.network");
  if (existing && existing.resource.network !== net.resource.selfLink) {
    throw invalid(`Invalid value for field 'resource.network': '${network}'. The network of a firewall cannot be changed.`, "network");
  }
  fw.network = net.resource.selfLink;
  const allowed = (fw.allowed ?? []) as Obj[];
  const denied = (fw.denied ?? []) as Obj[];
  if (allowed.length && denied.length) throw invalid("Invalid value for field 'resource': ''. Only one of 'allowed' or 'denied' can be specified.", "allowed");
  if (!allowed.length && !denied.length) throw invalid("Invalid value for field 'resource': ''. Exactly one of 'allowed' or 'denied' must be specified.", "allowed");
  checkRules(fw.allowed, "allowed");
  checkRules(fw.denied, "denied");
  checkRanges(fw.sourceRanges, "sourceRanges");
  checkRanges(fw.destinationRanges, "destinationRanges");
  fw.direction ??= "INGRESS";
  fw.priority ??= 1000;
  if (fw.priority < 0 || fw.priority > 65535) throw invalid(`Invalid value for field 'resource.priority': '${fw.priority}'. Must be between 0 and 65535.`, "priority");
  fw.disabled ??= false;
  fw.logConfig ??= { enable: false };
  if (fw.direction === "EGRESS" && !fw.destinationRanges?.length) fw.destinationRanges = ["0.0.0.0/0"];
  if (fw.direction === "INGRESS" && !fw.sourceRanges?.length && !fw.sourceTags?.length && !fw.sourceServiceAccounts?.length) {
    fw.sourceRanges = ["0.0.0.0/0"];
  }
  return fw;
}

function requireSameName(call: Call, fw: ComputeRecord): void {
  if (call.body.name !== undefined && call.body.name !== fw.name) {
    throw invalid(`Invalid value for field 'resource.name': '${call.body.name}'. The name of a firewall cannot be changed.`, "name");
  }
}

export const firewallHandlers: HandlerTable = {
  "compute.firewalls.insert": (call) => {
    const r = newRecord(call, "firewalls", call.body);
    r.resource = normalize(call, r.resource, r.project);
    return insertRecord(call, r);
  },

  "compute.firewalls.get": (call) => render(call.world.compute.require("firewalls", projectOf(call), GLOBAL, call.params.firewall)),

  "compute.firewalls.list": (call) => listResponse(call, "firewalls", "compute#firewallList"),

  "compute.firewalls.delete": (call) => {
    const fw = call.world.compute.require("firewalls", projectOf(call), GLOBAL, call.params.firewall);
    return deleteRecord(call, fw, undefined);
  },

  "compute.firewalls.patch": (call) => {
    const fw = call.world.compute.require("firewalls", projectOf(call), GLOBAL, call.params.firewall);
    requireSameName(call, fw);
    const next = normalize(call, mergePatch(fw.resource, clientFields(call.body)), fw.project, fw);
    return updateRecord(call, fw, "patch", () => {
      fw.resource = next;
    });
  },

  "compute.firewalls.update": (call) => {
    const fw = call.world.compute.require("firewalls", projectOf(call), GLOBAL, call.params.firewall);
    requireSameName(call, fw);
    const keep = { kind: fw.resource.kind, id: fw.id, creationTimestamp: fw.resource.creationTimestamp, selfLink: fw.resource.selfLink, name: fw.name };
    const next = normalize(call, { ...clientFields(call.body), ...keep }, fw.project, fw);
    return updateRecord(call, fw, "update", () => {
      fw.resource = next;
    });
  },
};

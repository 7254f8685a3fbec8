/**
 * Guest attributes, which is how Pilot learns a new VM's SSH host keys
 * without trusting the first connection: the guest agent writes them under
 * `hostkeys/`, and `instances.getGuestAttributes?queryPath=hostkeys/` reads
 * them. The fake has no guest agent, so a test sets the keys (for one
 * instance name, or a default for every instance). As on GCE: nothing
 * written → 404; the instance's metadata must enable guest attributes; the
 * agent only writes once the instance is RUNNING.
 */
import { GcpError, notFound } from "../errors.js";
import type { Handler, Obj } from "../types.js";
import { queryString } from "../types.js";
import { projectOf, scopeOf } from "./common.js";

export interface GuestEntry {
  namespace?: string;
  key: string;
  value: string;
}

export class GuestKeys {
  defaultKeys: GuestEntry[] | undefined;
  readonly byInstance = new Map<string, GuestEntry[]>();

  /** Sets host keys for one instance name, or (no name) for every instance. Empty list clears. */
  set(keys: GuestEntry[], instance?: string): void {
    const norm = keys.map((k) => ({ namespace: k.namespace ?? "hostkeys", key: k.key, value: k.value }));
    if (instance) {
      if (norm.length) this.byInstance.set(instance, norm);
      else this.byInstance.delete(instance);
    } else {
      this.defaultKeys = norm.length ? norm : undefined;
    }
  }

  for(instance: string): GuestEntry[] {
    return this.byInstance.get(instance) ?? this.defaultKeys ?? [];
  }
}

export function guestAttributesEnabled(instance: Obj): boolean {
  const items = (instance.metadata?.items ?? []) as { key: string; value?: string }[];
  const item = items.find((i) => i.key === "enable-guest-attributes");
  return String(item?.value ?? "").toUpperCase() === "TRUE";
}

export const getGuestAttributes: Handler = (call) => {
  const w = call.world;
  const inst = w.compute.require("instances", projectOf(call), scopeOf(call), call.params.instance);
  const queryPath = queryString(call.query, "queryPath");
  const variableKey = queryString(call.query, "variableKey");
  const what = variableKey ?? queryPath ?? "";
  if (!guestAttributesEnabled(inst.resource)) {
    throw new GcpError(400, `Guest attributes are disabled for instance '${inst.name}'. Set the metadata key 'enable-guest-attributes' to 'TRUE' to enable them.`, {
      status: "FAILED_PRECONDITION",
      reason: "badRequest",
    });
  }
  const written = inst.resource.status === "RUNNING" ? w.guestKeys.for(inst.name) : [];
  const base = { kind: "compute#guestAttributes", selfLink: `${inst.resource.selfLink}/getGuestAttributes` };
  if (variableKey !== undefined) {
    const [ns, ...rest] = variableKey.split("/");
    const hit = written.find((e) => e.namespace === ns && e.key === rest.join("/"));
    if (!hit) throw notFound(`The resource '${variableKey}' of type 'Guest Attribute' was not found.`);
    return { ...base, variableKey, variableValue: hit.value };
  }
  const ns = (queryPath ?? "").replace(/\/.*$/, "");
  const key = (queryPath ?? "").includes("/") ? (queryPath ?? "").slice(ns.length + 1) : "";
  const items = written.filter((e) => (!ns || e.namespace === ns) && (!key || e.key === key));
  if (!items.length) throw notFound(`The resource '${what}' of type 'Guest Attribute' was not found.`);
  return { ...base, queryPath: queryPath ?? "", queryValue: { items: items.map((e) => ({ namespace: e.namespace, key: e.key, value: e.value })) } };
};

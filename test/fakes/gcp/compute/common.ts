/**
 * What the compute handlers share: reading the project/scope of a call,
 * creating a record with the fields compute fills in (kind, id, selfLink,
 * creationTimestamp), list and aggregatedList responses, and the generic
 * delete with its "still in use" check.
 */
import { alreadyExists, resourceInUse, resourceNotReady } from "../errors.js";
import { numericId, timestamp } from "../ids.js";
import { applyFilter, paginate } from "../list-util.js";
import type { Call, Obj } from "../types.js";
import { clone, queryString } from "../types.js";
import { startOp } from "./operations.js";
import {
  GLOBAL,
  resourcePath,
  scopeLink,
  scopePath,
  selfLink,
  type ComputeCollection,
  type ComputeRecord,
  type Scope,
} from "./store.js";

/** The discovery `kind` of each collection's resources and lists. */
export const KIND: Record<ComputeCollection, string> = {
  networks: "compute#network",
  subnetworks: "compute#subnetwork",
  firewalls: "compute#firewall",
  addresses: "compute#address",
  globalAddresses: "compute#address",
  instances: "compute#instance",
  disks: "compute#disk",
};

const NOUN: Record<ComputeCollection, string> = {
  networks: "network",
  subnetworks: "subnetwork",
  firewalls: "firewall",
  addresses: "address",
  globalAddresses: "address",
  instances: "instance",
  disks: "disk",
};

export function projectOf(call: Call): string {
  return call.world.projects.idOf(call.params.project);
}

export function scopeOf(call: Call): Scope {
  if (call.params.zone) return { kind: "zone", name: call.params.zone };
  if (call.params.region) return { kind: "region", name: call.params.region };
  return GLOBAL;
}

/** Fields compute clients may send but the server owns. */
const SERVER_FIELDS = ["kind", "id", "selfLink", "selfLinkWithId", "creationTimestamp", "status", "statusMessage", "region", "zone", "users", "peerings", "gatewayAddress", "fingerprint", "labelFingerprint"];

/** The client's body minus what the server owns (compute ignores output-only fields it is sent). */
export function clientFields(body: Obj, keep: string[] = []): Obj {
  const out = clone(body);
  for (const f of SERVER_FIELDS) if (!keep.includes(f)) delete out[f];
  return out;
}

/** Creates a record for an insert: 409 when the name is taken, server fields filled in. */
export function newRecord(call: Call, collection: ComputeCollection, body: Obj): ComputeRecord {
  const w = call.world;
  const project = projectOf(call);
  const scope = scopeOf(call);
  const name = String(body.name ?? "");
  const path = resourcePath(collection, project, scope, name);
  if (w.compute.get(path)) throw alreadyExists(`The resource '${path}' already exists`);
  const id = numericId();
  const resource: Obj = {
    kind: KIND[collection],
    id,
    creationTimestamp: timestamp(w.now()),
    ...clientFields(body),
    name,
    selfLink: selfLink(path),
  };
  if (scope.kind === "region") resource.region = scopeLink(project, scope);
  if (scope.kind === "zone") resource.zone = scopeLink(project, scope);
  return { collection, project, scope, name, id, resource, ready: false, deleting: false };
}

/** Stores the record and starts its insert operation; `ready` when it finishes, gone if it fails. */
export function insertRecord(call: Call, r: ComputeRecord, onDone?: () => void, onFail?: () => void): Obj {
  const w = call.world;
  w.compute.put(r);
  const path = w.compute.pathOf(r);
  return startOp(call, {
    project: r.project,
    scope: r.scope,
    operationType: "insert",
    targetPath: path,
    targetId: r.id,
    kind: `compute.${r.collection}`,
    onDone: () => {
      r.ready = true;
      onDone?.();
    },
    onFail: () => {
      w.compute.remove(r);
      onFail?.();
    },
  });
}

/**
 * Deletes a record: 400 resourceInUseByAnotherResource when `usedBy` names
 * something still using it, resourceNotReady while its insert runs; the
 * record disappears when the operation finishes.
 */
export function deleteRecord(call: Call, r: ComputeRecord, usedBy: string | undefined, onDone?: () => void): Obj {
  const w = call.world;
  const path = w.compute.pathOf(r);
  if (!r.ready || r.deleting) throw resourceNotReady(path);
  if (usedBy) {
    const noun = NOUN[r.collection];
    throw resourceInUse(`The ${noun} resource '${path}' is already being used by '${usedBy}'`);
  }
  r.deleting = true;
  return startOp(call, {
    project: r.project,
    scope: r.scope,
    operationType: "delete",
    targetPath: path,
    targetId: r.id,
    kind: `compute.${r.collection}`,
    onDone: () => {
      w.compute.remove(r);
      onDone?.();
    },
    onFail: () => {
      r.deleting = false;
    },
  });
}

/** A mutation of an existing, ready record (patch, setLabels, ...), applied when its operation finishes. */
export function updateRecord(call: Call, r: ComputeRecord, operationType: string, apply: () => void, applyNow = false): Obj {
  const path = call.world.compute.pathOf(r);
  if (!r.ready || r.deleting) throw resourceNotReady(path);
  if (applyNow) apply();
  return startOp(call, {
    project: r.project,
    scope: r.scope,
    operationType,
    targetPath: path,
    targetId: r.id,
    kind: `compute.${r.collection}`,
    onDone: applyNow ? undefined : apply,
  });
}

export function render(r: ComputeRecord): Obj {
  return clone(r.resource);
}

/** A `compute#xList` response, filtered and paged. */
export function listResponse(call: Call, collection: ComputeCollection, listKind: string): Obj {
  const project = projectOf(call);
  const scope = scopeOf(call);
  const items = applyFilter(call.world.compute.list(collection, project, scope).map(render), queryString(call.query, "filter"));
  const { page, nextPageToken } = paginate(items, queryString(call.query, "maxResults"), queryString(call.query, "pageToken"));
  const id = `projects/${project}/${scopePath(scope)}/${collection === "globalAddresses" ? "addresses" : collection}`;
  const out: Obj = { kind: listKind, id, selfLink: selfLink(id) };
  if (page.length) out.items = page;
  if (nextPageToken) out.nextPageToken = nextPageToken;
  return out;
}

/** A `compute#xAggregatedList`: items grouped by `zones/z` or `regions/r` (only scopes that have some). */
export function aggregatedResponse(call: Call, collection: ComputeCollection, listKind: string, field: string): Obj {
  const project = projectOf(call);
  const records = call.world.compute.list(collection, project);
  const keep = new Set(applyFilter(records.map(render), queryString(call.query, "filter")).map((j) => j.selfLink as string));
  const items: Obj = {};
  for (const r of records) {
    if (!keep.has(r.resource.selfLink)) continue;
    (items[scopePath(r.scope)] ??= { [field]: [] })[field].push(render(r));
  }
  const id = `projects/${project}/aggregated/${collection}`;
  const out: Obj = { kind: listKind, id, selfLink: selfLink(id) };
  if (Object.keys(items).length) out.items = items;
  return out;
}

/** RFC 7386 JSON merge patch, as compute's PATCH methods apply it (objects merge, arrays replace, null clears). */
export function mergePatch(target: Obj, patch: Obj): Obj {
  const out = clone(target);
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else if (v && typeof v === "object" && !Array.isArray(v) && out[k] && typeof out[k] === "object" && !Array.isArray(out[k])) out[k] = mergePatch(out[k], v);
    else out[k] = clone(v);
  }
  return out;
}

/**
 * compute's resources, keyed by their path (`projects/p/global/networks/n`,
 * `projects/p/regions/r/subnetworks/s`, `projects/p/zones/z/instances/i`),
 * and how references between them are written. A resource exists from its
 * insert (`ready` once its operation is DONE: compute refuses to build on a
 * resource whose insert has not finished) until its delete operation is DONE
 * (`deleting` meanwhile, still readable, still in use by what it uses).
 */
import { invalid, notFound, resourceNotReady } from "../errors.js";
import { fingerprintOf } from "../ids.js";
import type { Obj } from "../types.js";

export const COMPUTE_BASE = "https://www.googleapis.com/compute/v1/";

export type Scope = { kind: "global" } | { kind: "region"; name: string } | { kind: "zone"; name: string };

export type ComputeCollection = "networks" | "subnetworks" | "firewalls" | "addresses" | "globalAddresses" | "instances" | "disks";

export interface ComputeRecord {
  collection: ComputeCollection;
  project: string;
  scope: Scope;
  name: string;
  id: string;
  /** The resource as served (kept current by the handlers). */
  resource: Obj;
  ready: boolean;
  deleting: boolean;
}

export const GLOBAL: Scope = { kind: "global" };

export function scopePath(scope: Scope): string {
  return scope.kind === "global" ? "global" : scope.kind === "region" ? `regions/${scope.name}` : `zones/${scope.name}`;
}

/** The segment compute uses in URLs (global addresses live under `global/addresses`). */
export function urlCollection(c: ComputeCollection): string {
  return c === "globalAddresses" ? "addresses" : c;
}

export function resourcePath(c: ComputeCollection, project: string, scope: Scope, name: string): string {
  return `projects/${project}/${scopePath(scope)}/${urlCollection(c)}/${name}`;
}

export function selfLink(path: string): string {
  return `${COMPUTE_BASE}${path}`;
}

export function scopeLink(project: string, scope: Scope): string | undefined {
  return scope.kind === "global" ? undefined : selfLink(`projects/${project}/${scopePath(scope)}`);
}

/** `us-central1-a` → `us-central1`. */
export function regionOfZone(zone: string): string {
  return zone.replace(/-[a-z]$/, "");
}

/** A compute reference (full URL, `projects/p/...` or `global/...`/`regions/r/...`/`zones/z/...`), split up. */
export interface ParsedRef {
  project: string;
  scopePath: string;
  collection: string;
  name: string;
  path: string;
}

export function parseRef(value: string, defaultProject: string): ParsedRef | undefined {
  let v = value;
  for (const prefix of [COMPUTE_BASE, "https://compute.googleapis.com/compute/v1/", "http://www.googleapis.com/compute/v1/", "/compute/v1/", "/"]) {
    if (v.startsWith(prefix)) {
      v = v.slice(prefix.length);
      break;
    }
  }
  const m = /^(?:projects\/([^/]+)\/)?(global|regions\/[^/]+|zones\/[^/]+)\/([A-Za-z]+)\/([^/]+)$/.exec(v);
  if (!m) return undefined;
  const project = m[1] ?? defaultProject;
  return { project, scopePath: m[2], collection: m[3], name: m[4], path: `projects/${project}/${m[2]}/${m[3]}/${m[4]}` };
}

/** Labels as compute accepts them: keys `[a-z][a-z0-9_-]{0,62}`, values `[a-z0-9_-]{0,63}`, at most 64. */
export function checkLabels(labels: unknown, field = "labels"): Record<string, string> {
  if (labels === undefined || labels === null) return {};
  const out: Record<string, string> = {};
  const entries = Object.entries(labels as Record<string, string>);
  if (entries.length > 64) throw invalid(`Invalid value for field 'resource.${field}': too many labels (at most 64).`, field);
  for (const [k, v] of entries) {
    if (!/^[\p{Ll}\p{Lo}][\p{Ll}\p{Lo}\p{N}_-]{0,62}$/u.test(k)) {
      throw invalid(`Invalid value for field 'resource.${field}': '${k}'. Label keys must start with a lowercase letter and contain only lowercase letters, digits, '_' and '-' (at most 63 characters).`, `${field}.${k}`);
    }
    if (!/^[\p{Ll}\p{Lo}\p{N}_-]{0,63}$/u.test(v)) {
      throw invalid(`Invalid value for field 'resource.${field}.${k}': '${v}'. Label values may contain only lowercase letters, digits, '_' and '-' (at most 63 characters).`, `${field}.${k}`);
    }
    out[k] = v;
  }
  return out;
}

export function labelFingerprint(labels: Record<string, string>): string {
  return fingerprintOf(labels);
}

export class ComputeState {
  readonly records = new Map<string, ComputeRecord>();

  get(path: string): ComputeRecord | undefined {
    return this.records.get(path);
  }

  /** The record, or compute's 404. */
  require(c: ComputeCollection, project: string, scope: Scope, name: string): ComputeRecord {
    const path = resourcePath(c, project, scope, name);
    const r = this.records.get(path);
    if (!r) throw notFound(`The resource '${path}' was not found`);
    return r;
  }

  /** Resolves a reference another resource makes, to an existing, ready record of the expected collection. */
  resolve(value: string, expect: ComputeCollection, defaultProject: string, field: string): ComputeRecord {
    const ref = parseRef(value, defaultProject);
    if (!ref || ref.collection !== urlCollection(expect) || (expect === "globalAddresses") !== (ref.scopePath === "global" && ref.collection === "addresses")) {
      throw invalid(`Invalid value for field '${field}': '${value}'. The URL is malformed.`, field.replace(/^resource\./, ""));
    }
    const r = this.records.get(ref.path);
    if (!r || r.collection !== expect) throw notFound(`The resource '${ref.path}' was not found`);
    if (!r.ready || r.deleting) throw resourceNotReady(ref.path);
    return r;
  }

  list(c: ComputeCollection, project: string, scope?: Scope): ComputeRecord[] {
    const out: ComputeRecord[] = [];
    for (const r of this.records.values()) {
      if (r.collection !== c || r.project !== project) continue;
      if (scope && scopePath(scope) !== scopePath(r.scope)) continue;
      out.push(r);
    }
    return out.sort((a, b) => a.name.localeCompare(b.name));
  }

  all(): ComputeRecord[] {
    return [...this.records.values()];
  }

  put(r: ComputeRecord): void {
    this.records.set(resourcePath(r.collection, r.project, r.scope, r.name), r);
  }

  remove(r: ComputeRecord): void {
    this.records.delete(resourcePath(r.collection, r.project, r.scope, r.name));
  }

  pathOf(r: ComputeRecord): string {
    return resourcePath(r.collection, r.project, r.scope, r.name);
  }
}

/**
 * Checks a JSON body against a discovery schema, the way Google's JSON front
 * end does: every field must exist in the schema (output-only ones included:
 * Google accepts and ignores them), every value must have the schema's JSON
 * type (int64/uint64 may be a number or a decimal string, as proto3 JSON
 * allows; enums must be one of the listed names), and a field whose
 * `annotations.required` names the method must be there. compute's name
 * `pattern`s are enforced too, as compute does.
 *
 * The first problem found is reported with Google's wording and the field's
 * path (`Invalid JSON payload received. Unknown name "foo" at 'network': Cannot find field.`).
 *
 * The same walk, in "response" mode, checks what the fake itself sends
 * (int64 as strings, no nulls, no unknown fields), so a fake bug shows as a
 * 500 in the fake's own tests instead of a confused provider.
 */
import type { ApiName, DiscoveryDocument, DiscoverySchema } from "./discovery.js";
import { GcpError, fieldViolation, invalid, required } from "./errors.js";

/** The proto package each API's messages live in (for Google-like type names in messages). */
const PROTO_PACKAGE: Record<ApiName, string> = {
  compute: "google.cloud.compute.v1",
  sqladmin: "google.cloud.sql.v1",
  servicenetworking: "google.cloud.servicenetworking.v1",
  vpcaccess: "google.cloud.vpcaccess.v1",
  iam: "google.iam.admin.v1",
  cloudresourcemanager: "google.cloudresourcemanager.v1",
  serviceusage: "google.api.serviceusage.v1",
  artifactregistry: "google.devtools.artifactregistry.v1",
  run: "google.cloud.run.v1",
  secretmanager: "google.cloud.secretmanager.v1",
};

export function snakeCase(s: string): string {
  return s.replace(/([a-z0-9])([A-Z])/g, "$1_$2").replace(/([A-Z])([A-Z][a-z])/g, "$1_$2").toLowerCase();
}

function render(value: unknown): string {
  const s = JSON.stringify(value) ?? String(value);
  return s.length > 120 ? `${s.slice(0, 117)}...` : s;
}

interface Walk {
  doc: DiscoveryDocument;
  api: ApiName;
  mode: "request" | "response";
  methodId?: string;
}

/** Where a value sits: proto-style path for ESF messages, JSON path for compute's and for the field violation. */
interface Loc {
  proto: string;
  json: string;
}

const INT_RANGES: Record<string, [bigint, bigint]> = {
  int32: [-(2n ** 31n), 2n ** 31n - 1n],
  uint32: [0n, 2n ** 32n - 1n],
  int64: [-(2n ** 63n), 2n ** 63n - 1n],
  uint64: [0n, 2n ** 64n - 1n],
};

function scalarTypeName(schema: DiscoverySchema): string {
  switch (schema.type) {
    case "boolean":
      return "TYPE_BOOL";
    case "integer":
      return schema.format === "uint32" ? "TYPE_UINT32" : "TYPE_INT32";
    case "number":
      return schema.format === "float" ? "TYPE_FLOAT" : "TYPE_DOUBLE";
    case "string":
      switch (schema.format) {
        case "int64":
          return "TYPE_INT64";
        case "uint64":
          return "TYPE_UINT64";
        case "byte":
          return "TYPE_BYTES";
        case "google-datetime":
          return "type.googleapis.com/google.protobuf.Timestamp";
        case "google-duration":
          return "type.googleapis.com/google.protobuf.Duration";
        case "google-fieldmask":
          return "type.googleapis.com/google.protobuf.FieldMask";
        default:
          return "TYPE_STRING";
      }
    default:
      return `TYPE_${String(schema.type).toUpperCase()}`;
  }
}

function isIntegerText(s: string, unsigned: boolean): boolean {
  return unsigned ? /^\d+$/.test(s) : /^-?\d+$/.test(s);
}

function inRange(v: bigint, format: string): boolean {
  const r = INT_RANGES[format];
  return !r || (v >= r[0] && v <= r[1]);
}

/** Checks one scalar against its schema; returns an error message or undefined. */
export function scalarProblem(value: unknown, schema: DiscoverySchema, mode: "request" | "response"): boolean {
  switch (schema.type) {
    case "boolean":
      return typeof value !== "boolean";
    case "integer": {
      if (typeof value !== "number" || !Number.isInteger(value)) return true;
      return !inRange(BigInt(value), schema.format ?? "int32");
    }
    case "number":
      return typeof value !== "number";
    case "string": {
      if (schema.format === "int64" || schema.format === "uint64") {
        const unsigned = schema.format === "uint64";
        if (typeof value === "number") {
          if (mode === "response") return true; // Google always prints 64-bit integers as strings
          return !Number.isInteger(value) || !inRange(BigInt(value), schema.format);
        }
        if (typeof value !== "string" || !isIntegerText(value, unsigned)) return true;
        return !inRange(BigInt(value), schema.format);
      }
      if (typeof value !== "string") return true;
      if (schema.enum && !schema.enum.includes(value)) return true;
      switch (schema.format) {
        case "byte":
          return !/^[A-Za-z0-9+/_-]*={0,2}$/.test(value);
        case "google-datetime":
          return !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/.test(value) || Number.isNaN(Date.parse(value));
        case "google-duration":
          return !/^-?\d+(\.\d{1,9})?s$/.test(value);
        default:
          return false;
      }
    }
    default:
      return false;
  }
}

class Walker {
  constructor(private readonly w: Walk) {}

  private resolve(schema: DiscoverySchema): { schema: DiscoverySchema; name?: string } {
    if (schema.$ref) {
      const s = this.w.doc.schemas[schema.$ref];
      if (!s) throw new Error(`gcp fake: ${this.w.doc.name} has no schema ${schema.$ref}`);
      return { schema: s, name: schema.$ref };
    }
    return { schema };
  }

  private typeLabel(schema: DiscoverySchema, owner: string, field: string): string {
    const pkg = PROTO_PACKAGE[this.w.api];
    if (schema.$ref) return `type.googleapis.com/${pkg}.${schema.$ref}`;
    if (schema.enum) return `type.googleapis.com/${pkg}.${owner}.${field.charAt(0).toUpperCase()}${field.slice(1)}`;
    if (schema.type === "object") return `type.googleapis.com/${pkg}.${owner}`;
    return scalarTypeName(schema);
  }

  private badValue(loc: Loc, label: string, value: unknown): GcpError {
    return invalid(`Invalid value at '${loc.proto}' (${label}), ${render(value)}`, loc.json);
  }

  /** Walks `value` (already known not to be undefined) against `schema`. */
  value(value: unknown, schema: DiscoverySchema, loc: Loc, owner: string, field: string, parent: Loc, repeatedOk = false): void {
    if (value === null) {
      if (this.w.mode === "response") throw invalid(`null at '${loc.json}'`, loc.json);
      return; // proto3 JSON: null means "not set"
    }
    const { schema: s, name } = this.resolve(schema);
    if (s.type === "array" && !repeatedOk) {
      if (!Array.isArray(value)) {
        throw this.badValue(loc, this.typeLabel(s.items ?? {}, owner, field), value);
      }
      value.forEach((item, i) =>
        this.value(item, s.items ?? {}, { proto: `${loc.proto}[${i}]`, json: `${loc.json}[${i}]` }, owner, field, parent, true),
      );
      return;
    }
    if (Array.isArray(value) && s.type !== "any") {
      throw invalid(
        `Invalid JSON payload received. Unknown name "${field}" at '${parent.proto}': Proto field is not repeating, cannot start list.`,
        loc.json,
      );
    }
    if (s.type === "any") return;
    if (s.type === "object" || s.properties || schema.$ref) {
      if (typeof value !== "object") throw this.badValue(loc, this.typeLabel(schema, owner, field), value);
      this.object(value as Record<string, unknown>, s, loc, name ?? `${owner}.${field}`);
      return;
    }
    if (scalarProblem(value, s, this.w.mode)) {
      if (typeof value === "object") {
        throw invalid(
          `Invalid JSON payload received. Unknown name "${field}" at '${parent.proto}': Starting an object on a scalar field.`,
          loc.json,
        );
      }
      throw this.badValue(loc, this.typeLabel(s, owner, field), value);
    }
    if (this.w.mode === "request" && this.w.api === "compute" && s.pattern && typeof value === "string") {
      if (!new RegExp(`^(?:${s.pattern})$`).test(value)) {
        throw invalid(`Invalid value for field 'resource.${loc.json}': '${value}'. Must be a match of regex '(?:${s.pattern})'`, loc.json);
      }
    }
  }

  object(obj: Record<string, unknown>, schema: DiscoverySchema, loc: Loc, owner: string): void {
    const props = schema.properties ?? {};
    const join = (base: string, k: string): string => (base ? `${base}.${k}` : k);
    for (const [k, v] of Object.entries(obj)) {
      if (v === undefined) continue;
      const prop = props[k];
      const childLoc: Loc = prop
        ? { proto: join(loc.proto, snakeCase(k)), json: join(loc.json, k) }
        : { proto: `${loc.proto}[${k}]`, json: `${loc.json}[${k}]` };
      if (prop) {
        this.value(v, prop, childLoc, owner, k, loc);
      } else if (schema.additionalProperties) {
        this.value(v, schema.additionalProperties, childLoc, owner, k, loc);
      } else if (!schema.properties && schema.type === "object") {
        // a free-form object (no properties, no additionalProperties): anything goes
      } else {
        const at = loc.proto ? ` at '${loc.proto}'` : "";
        throw invalid(`Invalid JSON payload received. Unknown name "${k}"${at}: Cannot find field.`, join(loc.json, k));
      }
    }
    if (this.w.mode === "request" && this.w.methodId) {
      for (const [k, prop] of Object.entries(props)) {
        if (!prop.annotations?.required?.includes(this.w.methodId)) continue;
        const v = obj[k];
        if (v === undefined || v === null || v === "") {
          const path = join(loc.json, k);
          throw required(`Required field 'resource.${path}' not specified`, path);
        }
      }
    }
  }
}

/** Throws a 400 GcpError when `body` does not fit the method's request schema. */
export function checkRequestBody(doc: DiscoveryDocument, api: ApiName, methodId: string, ref: string, body: unknown): void {
  const walker = new Walker({ doc, api, mode: "request", methodId });
  const root = snakeCase(ref);
  if (body === null || typeof body !== "object" || Array.isArray(body)) {
    throw new GcpError(400, `Invalid JSON payload received. Expected an object at '${root}'.`, {
      details: [fieldViolation("", "Expected a JSON object")],
    });
  }
  const schema = doc.schemas[ref];
  if (!schema) throw new Error(`gcp fake: ${doc.name} has no schema ${ref}`);
  walker.object(body as Record<string, unknown>, schema, { proto: root, json: "" }, ref);
}

/** What is wrong with a response body the fake is about to send, or undefined. */
export function responseProblem(doc: DiscoveryDocument, api: ApiName, ref: string, body: unknown): string | undefined {
  const walker = new Walker({ doc, api, mode: "response" });
  const schema = doc.schemas[ref];
  if (!schema) return `no schema ${ref}`;
  try {
    walker.object(body as Record<string, unknown>, schema, { proto: snakeCase(ref), json: "" }, ref);
    return undefined;
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}

/**
 * The shapes shared by the dispatcher and the per-API handlers: a validated
 * call (method, decoded path parameters, query, JSON body) in, a JSON body
 * out. Resource bodies are plain JSON objects, typed loosely (`Obj`) because
 * their real type is the discovery schema they are checked against.
 */
import type { ApiName, DiscoveryDocument, DiscoveryMethod } from "./discovery.js";
import type { QueryValues } from "./params-check.js";
import type { World } from "./world.js";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Obj = Record<string, any>;

/** How an operation started by this call is to fail (from an "operation" fault). */
export interface OperationFailure {
  /** compute/sql error code, e.g. "QUOTA_EXCEEDED". */
  code: string;
  message: string;
  /** HTTP status compute reports in httpErrorStatusCode, and the canonical status for LROs. */
  httpStatus: number;
}

export interface Call {
  world: World;
  api: ApiName;
  doc: DiscoveryDocument;
  method: DiscoveryMethod;
  methodId: string;
  /** Decoded path parameters. */
  params: Record<string, string>;
  query: QueryValues;
  /** The JSON body ({} when there is none). */
  body: Obj;
  failOperation?: OperationFailure;
}

/** A method's implementation: returns the response body (always HTTP 200) or throws GcpError. */
export type Handler = (call: Call) => unknown | Promise<unknown>;

export type HandlerTable = Record<string, Handler>;

/** One resource, as control.inventory() lists it. */
export interface InventoryItem {
  api: ApiName;
  collection: string;
  project: string;
  /** Region or zone, when the resource has one. */
  location?: string;
  name: string;
  id?: string;
  selfLink?: string;
  labels: Record<string, string>;
  description?: string;
  state?: string;
}

export function str(v: unknown): string | undefined {
  return typeof v === "string" ? v : undefined;
}

export function queryString(q: QueryValues, name: string): string | undefined {
  const v = q[name];
  return Array.isArray(v) ? v[0] : v;
}

export function queryList(q: QueryValues, name: string): string[] {
  const v = q[name];
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

/** A deep copy of JSON data (resources are handed out as copies, never as live state). */
export function clone<T>(v: T): T {
  return v === undefined ? v : (JSON.parse(JSON.stringify(v)) as T);
}

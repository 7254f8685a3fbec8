/**
 * compute's operations: every mutating call returns one (`compute#operation`,
 * RUNNING, then DONE after the configured delay, with `error.errors[]` when it
 * failed), served by zoneOperations / regionOperations / globalOperations
 * get, wait, list and delete.
 *
 * `requestId`: compute remembers the operation a request id started (for
 * hours) and answers a repeat of the same method with the same id by
 * returning that operation without doing anything again. The dispatcher
 * wraps every compute method that declares `requestId` in withRequestId().
 */
import { invalid, notFound } from "../errors.js";
import { computeOperationName, numericId, timestamp } from "../ids.js";
import { operationDelay } from "../latency.js";
import { applyFilter, paginate } from "../list-util.js";
import type { Call, Handler, HandlerTable, Obj } from "../types.js";
import { queryString } from "../types.js";
import { GLOBAL, scopeLink, scopePath, selfLink, type Scope } from "./store.js";

export interface ComputeOp {
  name: string;
  id: string;
  project: string;
  scope: Scope;
  operationType: string;
  targetLink: string;
  targetId: string;
  insertTime: number;
  doneAt: number;
  done: boolean;
  endTime?: number;
  error?: { code: string; message: string; httpStatus: number };
  user: string;
}

export class ComputeOperations {
  readonly ops = new Map<string, ComputeOp>();
  /** `methodId|project|requestId` → operation key. */
  readonly requestIds = new Map<string, string>();

  static key(project: string, scope: Scope, name: string): string {
    return `projects/${project}/${scopePath(scope)}/operations/${name}`;
  }

  get(project: string, scope: Scope, name: string): ComputeOp {
    const key = ComputeOperations.key(project, scope, name);
    const op = this.ops.get(key);
    if (!op) throw notFound(`The resource '${key}' was not found`);
    return op;
  }
}

export function renderOp(op: ComputeOp): Obj {
  const out: Obj = {
    kind: "compute#operation",
    id: op.id,
    name: op.name,
    operationType: op.operationType,
    targetLink: op.targetLink,
    targetId: op.targetId,
    status: op.done ? "DONE" : "RUNNING",
    user: op.user,
    progress: op.done ? 100 : 0,
    insertTime: timestamp(op.insertTime),
    startTime: timestamp(op.insertTime),
    selfLink: selfLink(ComputeOperations.key(op.project, op.scope, op.name)),
  };
  if (op.done && op.endTime !== undefined) out.endTime = timestamp(op.endTime);
  if (op.scope.kind === "zone") out.zone = scopeLink(op.project, op.scope);
  if (op.scope.kind === "region") out.region = scopeLink(op.project, op.scope);
  if (op.done && op.error) {
    out.error = { errors: [{ code: op.error.code, message: op.error.message }] };
    out.httpErrorStatusCode = op.error.httpStatus;
    out.httpErrorMessage = op.error.httpStatus === 404 ? "NOT FOUND" : op.error.httpStatus === 409 ? "CONFLICT" : op.error.httpStatus >= 500 ? "SERVICE UNAVAILABLE" : "BAD REQUEST";
  }
  return out;
}

export interface OpSpec {
  project: string;
  scope: Scope;
  operationType: string;
  targetPath: string;
  targetId: string;
  /** Latency kind, e.g. "compute.networks". */
  kind: string;
  /** Applied when the operation finishes successfully. */
  onDone?: () => void;
  /** Applied when it fails (an "operation" fault), e.g. to remove a half-made resource. */
  onFail?: () => void;
  /** Fails the operation with this error (a condition found only when the work is done). */
  failWith?: () => { code: string; message: string; httpStatus: number } | undefined;
}

/** Starts an operation for `call`; returns it rendered (RUNNING). */
export function startOp(call: Call, spec: OpSpec): Obj {
  const w = call.world;
  const now = w.now();
  const op: ComputeOp = {
    name: computeOperationName(now),
    id: numericId(),
    project: spec.project,
    scope: spec.scope,
    operationType: spec.operationType,
    targetLink: selfLink(spec.targetPath),
    targetId: spec.targetId,
    insertTime: now,
    doneAt: now + operationDelay(w.latency, call.methodId, spec.kind),
    done: false,
    user: w.callerEmail,
  };
  const key = ComputeOperations.key(op.project, op.scope, op.name);
  w.computeOps.ops.set(key, op);
  const requestId = queryString(call.query, "requestId");
  if (requestId) w.computeOps.requestIds.set(`${call.methodId}|${spec.project}|${requestId}`, key);
  w.timeline.at(op.doneAt, () => {
    const failure = call.failOperation ?? spec.failWith?.();
    if (failure) {
      op.error = failure;
      spec.onFail?.();
    } else {
      spec.onDone?.();
    }
    op.done = true;
    op.endTime = w.now();
  });
  return renderOp(op);
}

const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

/** Answers a repeated requestId with the operation it started, before the handler runs again. */
export function withRequestId(handler: Handler): Handler {
  return (call) => {
    const requestId = queryString(call.query, "requestId");
    if (requestId !== undefined) {
      if (!UUID.test(requestId) || /^[0-]+$/.test(requestId)) {
        throw invalid(`Invalid value for field 'requestId': '${requestId}'. The request ID must be a valid UUID with the exception that zero UUID is not supported.`, "requestId");
      }
      const project = call.world.projects.idOf(call.params.project);
      const key = call.world.computeOps.requestIds.get(`${call.methodId}|${project}|${requestId}`);
      const op = key ? call.world.computeOps.ops.get(key) : undefined;
      if (op) return renderOp(op);
    }
    return handler(call);
  };
}

function scopeOf(call: Call): Scope {
  if (call.params.zone) return { kind: "zone", name: call.params.zone };
  if (call.params.region) return { kind: "region", name: call.params.region };
  return GLOBAL;
}

const getOp: Handler = (call) => {
  const project = call.world.projects.idOf(call.params.project);
  return renderOp(call.world.computeOps.get(project, scopeOf(call), call.params.operation));
};

/** `wait`: returns when the operation is DONE or after two minutes, as compute does. */
const waitOp: Handler = async (call) => {
  const w = call.world;
  const project = w.projects.idOf(call.params.project);
  const op = w.computeOps.get(project, scopeOf(call), call.params.operation);
  const until = Math.min(op.doneAt, w.now() + 120_000);
  // A timer may fire a millisecond before the clock reads `until`: one more keeps "DONE" certain.
  await w.sleep(until - w.now() + 1);
  w.timeline.settle();
  return renderOp(op);
};

const listOps: Handler = (call) => {
  const w = call.world;
  const project = w.projects.idOf(call.params.project);
  const scope = scopeOf(call);
  const prefix = `projects/${project}/${scopePath(scope)}/operations/`;
  const items = [...w.computeOps.ops.entries()].filter(([k]) => k.startsWith(prefix)).map(([, op]) => renderOp(op));
  const filtered = applyFilter(items, queryString(call.query, "filter"));
  const { page, nextPageToken } = paginate(filtered, queryString(call.query, "maxResults"), queryString(call.query, "pageToken"));
  const out: Obj = { kind: "compute#operationList", id: prefix.slice(0, -1), selfLink: selfLink(prefix.slice(0, -1)) };
  if (page.length) out.items = page;
  if (nextPageToken) out.nextPageToken = nextPageToken;
  return out;
};

const deleteOp: Handler = (call) => {
  const w = call.world;
  const project = w.projects.idOf(call.params.project);
  const scope = scopeOf(call);
  w.computeOps.get(project, scope, call.params.operation);
  w.computeOps.ops.delete(ComputeOperations.key(project, scope, call.params.operation));
  return {};
};

export const operationHandlers: HandlerTable = {
  "compute.globalOperations.get": getOp,
  "compute.globalOperations.wait": waitOp,
  "compute.globalOperations.list": listOps,
  "compute.globalOperations.delete": deleteOp,
  "compute.regionOperations.get": getOp,
  "compute.regionOperations.wait": waitOp,
  "compute.regionOperations.list": listOps,
  "compute.regionOperations.delete": deleteOp,
  "compute.zoneOperations.get": getOp,
  "compute.zoneOperations.wait": waitOp,
  "compute.zoneOperations.list": listOps,
  "compute.zoneOperations.delete": deleteOp,
};


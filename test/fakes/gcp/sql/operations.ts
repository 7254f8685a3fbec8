/**
 * `sql#operation`s: PENDING, RUNNING, then DONE (with `error.errors[]` when
 * the work failed), served by sql.operations.get and list. startSqlOp is how
 * every Cloud SQL mutation starts its operation.
 */
import { GcpError } from "../errors.js";
import { uuid } from "../ids.js";
import { operationDelay } from "../latency.js";
import { paginate } from "../list-util.js";
import type { Call, HandlerTable } from "../types.js";
import { queryString } from "../types.js";
import { renderSqlOp, type SqlInstance, type SqlOp } from "./state.js";

export interface SqlOpSpec {
  project: string;
  instance: string;
  operationType: string;
  kind: string;
  /** The instance the operation occupies (one operation at a time per instance). */
  busy?: SqlInstance;
  /** Does the work; throw GcpError to fail the operation. */
  finish: () => void;
  onFail?: () => void;
}

export function startSqlOp(call: Call, spec: SqlOpSpec): object {
  const w = call.world;
  const now = w.now();
  const delay = operationDelay(w.latency, call.methodId, spec.kind);
  const op: SqlOp = {
    name: uuid(),
    project: spec.project,
    instance: spec.instance,
    operationType: spec.operationType,
    insertTime: now,
    startAt: now + Math.round(delay / 10),
    doneAt: now + delay,
    done: false,
    user: w.callerEmail,
  };
  w.sql.ops.set(`${op.project}/${op.name}`, op);
  if (spec.busy) spec.busy.busyWith = op;
  w.timeline.at(op.doneAt, () => {
    try {
      if (call.failOperation) throw new GcpError(call.failOperation.httpStatus, call.failOperation.message, { reason: call.failOperation.code });
      spec.finish();
    } catch (e) {
      if (!(e instanceof GcpError)) throw e;
      op.error = { code: call.failOperation?.code ?? e.reason.toUpperCase(), message: e.message };
      spec.onFail?.();
    }
    op.done = true;
    op.endTime = w.now();
  });
  return renderSqlOp(op, now);
}

export const sqlOperationHandlers: HandlerTable = {
  "sql.operations.get": (call) => {
    const w = call.world;
    const project = w.projects.idOf(call.params.project);
    return renderSqlOp(w.sql.op(project, call.params.operation), w.now());
  },
  "sql.operations.list": (call) => {
    const w = call.world;
    const project = w.projects.idOf(call.params.project);
    const instance = queryString(call.query, "instance");
    const items = [...w.sql.ops.values()]
      .filter((op) => op.project === project && (!instance || op.instance === instance))
      .sort((a, b) => b.insertTime - a.insertTime)
      .map((op) => renderSqlOp(op, w.now()));
    const { page, nextPageToken } = paginate(items, queryString(call.query, "maxResults"), queryString(call.query, "pageToken"));
    const out: Record<string, unknown> = { kind: "sql#operationsList" };
    if (page.length) out.items = page;
    if (nextPageToken) out.nextPageToken = nextPageToken;
    return out;
  },
};

/**
 * Cloud SQL's state: instances (with the private network each uses, so
 * Service Networking can refuse to drop a connection a database still
 * needs), the names deleted in the last week (Cloud SQL will not reuse them),
 * databases, users and `sql#operation`s. Cloud SQL runs one operation at a
 * time per instance; `busyUntil` is how a second one gets 409
 * operationInProgress.
 */
import { GcpError, notFound } from "../errors.js";
import { timestamp } from "../ids.js";
import type { Obj } from "../types.js";

export const SQL_BASE = "https://sqladmin.googleapis.com/v1/";

export interface SqlInstance {
  project: string;
  name: string;
  resource: Obj;
  /** `project/network` of settings.ipConfiguration.privateNetwork, when set. */
  privateNetwork?: { project: string; name: string };
  /** The operation now running on the instance, if any. */
  busyWith?: SqlOp;
  /** Password of the default user, kept for users.* (never served). */
}

export interface SqlOp {
  name: string;
  project: string;
  instance: string;
  operationType: string;
  insertTime: number;
  startAt: number;
  doneAt: number;
  done: boolean;
  endTime?: number;
  error?: { code: string; message: string };
  user: string;
}

export class SqlState {
  readonly instances = new Map<string, SqlInstance>();
  /** `project/name` → when it was deleted. */
  readonly deletedAt = new Map<string, number>();
  readonly ops = new Map<string, SqlOp>();
  /** `project/instance/db` → Database. */
  readonly databases = new Map<string, Obj>();
  /** `project/instance/name@host` → User (with password, stripped when served). */
  readonly users = new Map<string, Obj>();

  instance(project: string, name: string): SqlInstance {
    const i = this.instances.get(`${project}/${name}`);
    if (!i) throw notFound("The Cloud SQL instance does not exist.", "instanceDoesNotExist");
    return i;
  }

  /** Instances whose private IP is on this network (in any state, until their delete finishes). */
  instancesUsingNetwork(project: string, network: string): SqlInstance[] {
    return [...this.instances.values()].filter((i) => i.privateNetwork?.project === project && i.privateNetwork.name === network);
  }

  op(project: string, name: string): SqlOp {
    const op = this.ops.get(`${project}/${name}`);
    if (!op) throw notFound(`The Cloud SQL operation '${name}' does not exist.`, "operationDoesNotExist");
    return op;
  }
}

/** 409 while another operation runs on the instance, as Cloud SQL answers. */
export function requireIdle(i: SqlInstance): void {
  if (i.busyWith && !i.busyWith.done) {
    throw new GcpError(409, "Operation failed because another operation was already in progress. Try your request after the current operation is complete.", {
      status: "ABORTED",
      reason: "operationInProgress",
    });
  }
}

export function renderSqlOp(op: SqlOp, now: number): Obj {
  const status = op.done ? "DONE" : now < op.startAt ? "PENDING" : "RUNNING";
  const out: Obj = {
    kind: "sql#operation",
    targetLink: `${SQL_BASE}projects/${op.project}/instances/${op.instance}`,
    status,
    user: op.user,
    insertTime: timestamp(op.insertTime),
    operationType: op.operationType,
    name: op.name,
    targetId: op.instance,
    selfLink: `${SQL_BASE}projects/${op.project}/operations/${op.name}`,
    targetProject: op.project,
  };
  if (status !== "PENDING") out.startTime = timestamp(op.startAt);
  if (op.done && op.endTime !== undefined) out.endTime = timestamp(op.endTime);
  if (op.done && op.error) {
    out.error = { kind: "sql#operationErrors", errors: [{ kind: "sql#operationError", code: op.error.code, message: op.error.message }] };
  }
  return out;
}

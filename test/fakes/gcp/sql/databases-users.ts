/**
 * Cloud SQL databases and users. Each mutation is an operation on the
 * instance (CREATE_DATABASE, UPDATE_USER, ...), so it needs the instance
 * RUNNABLE and idle, and its effect shows when the operation is DONE.
 * PostgreSQL users have no host (get by name; `host` optional); MySQL users
 * are `name@host`. Passwords are kept but never served.
 */
import { alreadyExists, invalid, notFound } from "../errors.js";
import { hex } from "../ids.js";
import type { Call, HandlerTable, Obj } from "../types.js";
import { clone, queryString } from "../types.js";
import { startSqlOp } from "./operations.js";
import { requireIdle, SQL_BASE, type SqlInstance } from "./state.js";

function runnable(call: Call): { project: string; inst: SqlInstance } {
  const w = call.world;
  const project = w.projects.idOf(call.params.project);
  const inst = w.sql.instance(project, call.params.instance);
  return { project, inst };
}

function requireRunnable(inst: SqlInstance): void {
  if (inst.resource.state !== "RUNNABLE") {
    throw invalid("Invalid request since instance is not running.", undefined, "invalidState");
  }
  requireIdle(inst);
}

function dbKey(project: string, instance: string, db: string): string {
  return `${project}/${instance}/${db}`;
}

function isPostgres(inst: SqlInstance): boolean {
  return String(inst.resource.databaseVersion).startsWith("POSTGRES");
}

/** The key of a user: PostgreSQL ignores the host. */
function userKey(inst: SqlInstance, name: string, host: string | undefined): string {
  return `${inst.project}/${inst.name}/${name}@${isPostgres(inst) ? "" : (host ?? "%")}`;
}

function renderUser(u: Obj): Obj {
  const out = clone(u);
  delete out.password;
  return out;
}

export const sqlDatabaseUserHandlers: HandlerTable = {
  "sql.databases.insert": (call) => {
    const w = call.world;
    const { project, inst } = runnable(call);
    requireRunnable(inst);
    const name = call.body.name;
    if (!name) throw invalid("Invalid request: Missing parameter: name.", "name");
    const key = dbKey(project, inst.name, name);
    if (w.sql.databases.has(key)) throw alreadyExists(`Database '${name}' already exists.`);
    const pg = isPostgres(inst);
    const db: Obj = {
      kind: "sql#database",
      charset: call.body.charset ?? (pg ? "UTF8" : "utf8mb4"),
      collation: call.body.collation ?? (pg ? "en_US.UTF8" : "utf8mb4_0900_ai_ci"),
      etag: hex(16),
      name,
      instance: inst.name,
      selfLink: `${SQL_BASE}projects/${project}/instances/${inst.name}/databases/${name}`,
      project,
    };
    return startSqlOp(call, { project, instance: inst.name, operationType: "CREATE_DATABASE", kind: "sqladmin.databases", busy: inst, finish: () => void w.sql.databases.set(key, db) });
  },

  "sql.databases.get": (call) => {
    const { project, inst } = runnable(call);
    const db = call.world.sql.databases.get(dbKey(project, inst.name, call.params.database));
    if (!db) throw notFound(`Database '${call.params.database}' does not exist.`);
    return clone(db);
  },

  "sql.databases.list": (call) => {
    const { project, inst } = runnable(call);
    const prefix = `${project}/${inst.name}/`;
    const items = [...call.world.sql.databases.entries()].filter(([k]) => k.startsWith(prefix)).map(([, v]) => clone(v));
    return items.length ? { kind: "sql#databasesList", items } : { kind: "sql#databasesList" };
  },

  "sql.databases.delete": (call) => {
    const w = call.world;
    const { project, inst } = runnable(call);
    const key = dbKey(project, inst.name, call.params.database);
    if (!w.sql.databases.has(key)) throw notFound(`Database '${call.params.database}' does not exist.`);
    requireRunnable(inst);
    return startSqlOp(call, { project, instance: inst.name, operationType: "DELETE_DATABASE", kind: "sqladmin.databases", busy: inst, finish: () => void w.sql.databases.delete(key) });
  },

  "sql.users.insert": (call) => {
    const w = call.world;
    const { project, inst } = runnable(call);
    requireRunnable(inst);
    const name = call.body.name;
    if (!name) throw invalid("Invalid request: Missing parameter: name.", "name");
    const key = userKey(inst, name, call.body.host);
    if (w.sql.users.has(key)) throw alreadyExists(`User '${name}' already exists.`);
    const user: Obj = { kind: "sql#user", etag: hex(16), name, instance: inst.name, project, password: call.body.password };
    if (!isPostgres(inst)) user.host = call.body.host ?? "%";
    if (call.body.type) user.type = call.body.type;
    return startSqlOp(call, { project, instance: inst.name, operationType: "CREATE_USER", kind: "sqladmin.users", busy: inst, finish: () => void w.sql.users.set(key, user) });
  },

  "sql.users.get": (call) => {
    const { inst } = runnable(call);
    const u = call.world.sql.users.get(userKey(inst, call.params.name, queryString(call.query, "host")));
    if (!u) throw notFound(`User '${call.params.name}' does not exist.`);
    return renderUser(u);
  },

  "sql.users.list": (call) => {
    const { project, inst } = runnable(call);
    const prefix = `${project}/${inst.name}/`;
    const items = [...call.world.sql.users.entries()].filter(([k]) => k.startsWith(prefix)).map(([, v]) => renderUser(v));
    return items.length ? { kind: "sql#usersList", items } : { kind: "sql#usersList" };
  },

  "sql.users.update": (call) => {
    const w = call.world;
    const { project, inst } = runnable(call);
    const name = queryString(call.query, "name") ?? call.body.name;
    if (!name) throw invalid("Invalid request: Missing parameter: name.", "name");
    const key = userKey(inst, name, queryString(call.query, "host") ?? call.body.host);
    const u = w.sql.users.get(key);
    if (!u) throw notFound(`User '${name}' does not exist.`);
    requireRunnable(inst);
    const password = call.body.password;
    return startSqlOp(call, {
      project,
      instance: inst.name,
      operationType: "UPDATE_USER",
      kind: "sqladmin.users",
      busy: inst,
      finish: () => {
        if (password !== undefined) u.password = password;
        u.etag = hex(16);
      },
    });
  },

  "sql.users.delete": (call) => {
    const w = call.world;
    const { project, inst } = runnable(call);
    const name = queryString(call.query, "name");
    if (!name) throw invalid("Invalid request: Missing parameter: name.", "name");
    const key = userKey(inst, name, queryString(call.query, "host"));
    if (!w.sql.users.has(key)) throw notFound(`User '${name}' does not exist.`);
    requireRunnable(inst);
    return startSqlOp(call, { project, instance: inst.name, operationType: "DELETE_USER", kind: "sqladmin.users", busy: inst, finish: () => void w.sql.users.delete(key) });
  },
};

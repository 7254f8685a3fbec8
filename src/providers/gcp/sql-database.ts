import type { ResourceKind } from "../../engine/types.js";
import { isAlreadyExists } from "./errors.js";
import { actions, attempt, createOrAdopt, orGone, waitSqlOp, whenInstanceIdle, type GcpKindEnv } from "./shared.js";

/** Desired database inside the stack's Cloud SQL instance. */
export interface SqlDatabaseSpec {
  instance: string;
  name: string;
}

/** A database as recorded in state (id = "<instance>/<database>"). */
export interface SqlDatabaseOut {
  instance: string;
  name: string;
}

const TYPE = "gcp.sql.database";

/** "<instance>/<name>" → its parts; the id alone is enough to delete it after a lost graph. */
export function splitSqlId(id: string): { instance: string; name: string } {
  const at = id.indexOf("/");
  return { instance: id.slice(0, at), name: id.slice(at + 1) };
}

/**
 * read and find for an object inside the stack's Cloud SQL instance (a
 * database, a user): id "<instance>/<name>"; it takes no labels, but one of
 * that name inside the stack's own instance is ours.
 */
export function instanceObjectLookups<Spec extends { instance: string; name: string }>(
  act: (verb: string, name: string) => string,
  get: (instance: string, name: string) => Promise<unknown>,
): Pick<ResourceKind<Spec, SqlDatabaseOut>, "read" | "find"> {
  return {
    async read(id) {
      const { instance, name } = splitSqlId(id);
      return (await attempt(act("read", id), () => get(instance, name))) ? { instance, name } : undefined;
    },
    async find(tags, spec) {
      if (!spec) return undefined;
      const found = await attempt(act("find", tags.key), () => get(spec.instance, spec.name));
      return found ? { id: `${spec.instance}/${spec.name}`, out: { instance: spec.instance, name: spec.name } } : undefined;
    },
  };
}

/**
 * The apps' database. It takes no labels, but it lives inside the stack's
 * own instance, so one of that name there is ours.
 */
export function sqlDatabaseKind(env: GcpKindEnv): ResourceKind<SqlDatabaseSpec, SqlDatabaseOut> {
  const { sql } = env.clients;
  const act = actions(TYPE, env.region);
  const get = (instance: string, database: string) => orGone(async () => (await sql.databases.get({ project: env.project, instance, database })).data);

  return {
    type: TYPE,
    ...instanceObjectLookups<SqlDatabaseSpec>(act, get),
    async create(spec, ctx) {
      const action = act("create", ctx.tags.key);
      const result = await createOrAdopt({
        action,
        name: `database ${spec.name}`,
        create: () => whenInstanceIdle(env, async () => (await sql.databases.insert({ project: env.project, instance: spec.instance, requestBody: { name: spec.name, instance: spec.instance } })).data, ctx.progress),
        isAlreadyExists,
        existing: () => get(spec.instance, spec.name),
        isOurs: () => true, // inside the stack's own instance
      });
      if (result.created) await attempt(action, () => waitSqlOp(env, result.created, { what: `database ${spec.name}`, progress: ctx.progress }));
      return { id: `${spec.instance}/${spec.name}`, out: { instance: spec.instance, name: spec.name } };
    },
    async delete(id, _out, ctx) {
      const { instance, name } = splitSqlId(id);
      await attempt(act("delete", ctx.tags.key), async () => {
        const op = await orGone(() => whenInstanceIdle(env, async () => (await sql.databases.delete({ project: env.project, instance, database: name })).data, ctx.progress));
        if (op) await waitSqlOp(env, op, { what: `delete database ${name}`, progress: ctx.progress });
      });
    },
    diff(spec, out) {
      return spec.instance === out.instance && spec.name === out.name ? { result: "same" } : { result: "replace", reason: "the instance changed" };
    },
  };
}

import type { ResourceKind } from "../../engine/types.js";
import { PilotError } from "../../errors.js";
import type { Secret } from "../../secret.js";
import { isAlreadyExists } from "./errors.js";
import { actions, attempt, createOrAdopt, orGone, waitSqlOp, whenInstanceIdle, type GcpKindEnv } from "./shared.js";
import { instanceObjectLookups, splitSqlId } from "./sql-database.js";

/** Desired built-in PostgreSQL user with the password generated into state. */
export interface SqlUserSpec {
  instance: string;
  name: string;
  /** From state.secrets; a Secret so a logged spec shows "[redacted]". */
  password: Secret | undefined;
}

/** A user as recorded in state (id = "<instance>/<user>"); the password stays in state.secrets only. */
export interface SqlUserOut {
  instance: string;
  name: string;
}

const TYPE = "gcp.sql.user";

/**
 * The apps' database user. Cloud SQL never returns a password, so an adopted
 * user (an interrupted run made it) gets the state's password set again.
 */
export function sqlUserKind(env: GcpKindEnv): ResourceKind<SqlUserSpec, SqlUserOut> {
  const { sql } = env.clients;
  const act = actions(TYPE, env.region);
  const get = (instance: string, name: string) => orGone(async () => (await sql.users.get({ project: env.project, instance, name })).data);

  return {
    type: TYPE,
    ...instanceObjectLookups<SqlUserSpec>(act, get),
    async create(spec, ctx) {
      const action = act("create", ctx.tags.key);
      if (!spec.password) throw new PilotError(`${action}: the database password has not been generated.`);
      const body = { name: spec.name, instance: spec.instance, password: spec.password.reveal() };
      const result = await createOrAdopt({
        action,
        name: `database user ${spec.name}`,
        create: () => whenInstanceIdle(env, async () => (await sql.users.insert({ project: env.project, instance: spec.instance, requestBody: body })).data, ctx.progress),
        isAlreadyExists,
        existing: () => get(spec.instance, spec.name),
        isOurs: () => true, // inside the stack's own instance
      });
      const op = result.created ?? (await attempt(action, () => whenInstanceIdle(env, async () => (await sql.users.update({ project: env.project, instance: spec.instance, name: spec.name, requestBody: body })).data, ctx.progress)));
      await attempt(action, () => waitSqlOp(env, op, { what: `database user ${spec.name}`, progress: ctx.progress }));
      return { id: `${spec.instance}/${spec.name}`, out: { instance: spec.instance, name: spec.name } };
    },
    async delete(id, _out, ctx) {
      const { instance, name } = splitSqlId(id);
      await attempt(act("delete", ctx.tags.key), async () => {
        const op = await orGone(() => whenInstanceIdle(env, async () => (await sql.users.delete({ project: env.project, instance, name })).data, ctx.progress));
        if (op) await waitSqlOp(env, op, { what: `delete database user ${name}`, progress: ctx.progress });
      });
    },
    diff(spec, out) {
      return spec.instance === out.instance && spec.name === out.name ? { result: "same" } : { result: "replace", reason: "the instance changed" };
    },
  };
}

import {
  CreateDBSubnetGroupCommand,
  DeleteDBSubnetGroupCommand,
  DescribeDBSubnetGroupsCommand,
  ModifyDBSubnetGroupCommand,
  type DBSubnetGroup,
} from "@aws-sdk/client-rds";
import type { ResourceKind } from "../../engine/types.js";
import { actions, attempt, createOrAdopt, isErrorCode, orGone, sameSet, stackTagList, type AwsKindEnv } from "./shared.js";

/** Desired DB subnet group: a deterministic name (it carries the lineage) over the private subnets. */
export interface DbSubnetGroupSpec {
  name: string;
  description: string;
  subnetIds: string[];
}

/** A DB subnet group as recorded in state (id = name). */
export interface DbSubnetGroupOut {
  name: string;
  arn?: string;
  subnetIds: string[];
}

const TYPE = "aws.rds.subnet-group";
const GONE = ["DBSubnetGroupNotFoundFault"];

function toOut(g: DBSubnetGroup): DbSubnetGroupOut {
  return {
    name: g.DBSubnetGroupName!,
    arn: g.DBSubnetGroupArn,
    subnetIds: (g.Subnets ?? []).map((s) => s.SubnetIdentifier!).sort(),
  };
}

/**
 * Where RDS may place the database: the two private subnets in two zones.
 * RDS cannot filter by tag, so the group is found by its deterministic name;
 * the name includes the stack lineage, so a same-named group is this stack's.
 */
export function dbSubnetGroupKind(env: AwsKindEnv): ResourceKind<DbSubnetGroupSpec, DbSubnetGroupOut> {
  const { rds } = env.clients;
  const act = actions(TYPE, env.region);

  async function describe(action: string, name: string): Promise<DBSubnetGroup | undefined> {
    const res = await attempt(action, () => orGone(GONE, () => rds.send(new DescribeDBSubnetGroupsCommand({ DBSubnetGroupName: name }))));
    return res?.DBSubnetGroups?.[0];
  }

  return {
    type: TYPE,
    async read(id) {
      const g = await describe(act("read", id), id);
      return g ? toOut(g) : undefined;
    },
    async find(tags, spec) {
      // Without a spec there is no name to look up; create() then adopts ours on DBSubnetGroupAlreadyExists.
      if (!spec) return undefined;
      const g = await describe(act("find", tags.key), spec.name);
      return g ? { id: g.DBSubnetGroupName!, out: toOut(g) } : undefined;
    },
    async create(spec, ctx) {
      const action = act("create", ctx.tags.key);
      const res = await createOrAdopt({
        action,
        name: `a DB subnet group named ${spec.name}`,
        create: () =>
          rds.send(
            new CreateDBSubnetGroupCommand({
              DBSubnetGroupName: spec.name,
              DBSubnetGroupDescription: spec.description,
              SubnetIds: spec.subnetIds,
              Tags: stackTagList(ctx.tags),
            }),
          ),
        isAlreadyExists: (err) => isErrorCode(err, "DBSubnetGroupAlreadyExists"),
        existing: () => describe(action, spec.name),
        // Made by an interrupted run of this very stack (the name carries the lineage): adopt it.
        isOurs: () => true,
      });
      return { id: spec.name, out: toOut(res.adopted ?? res.created.DBSubnetGroup!) };
    },
    async delete(id, _out, ctx) {
      // InvalidDBSubnetGroupStateFault while the database is still being deleted: retried by the engine.
      await attempt(act("delete", ctx.tags.key), () => orGone(GONE, () => rds.send(new DeleteDBSubnetGroupCommand({ DBSubnetGroupName: id }))));
    },
    // The name is the stack's own: a re-created group keeps it, and the database stays.
    knownOutputs: (spec) => ({ name: spec.name }),
    diff(spec, out) {
      if (spec.name !== out.name) return { result: "replace", reason: `name ${out.name} → ${spec.name}` };
      return sameSet(spec.subnetIds, out.subnetIds) ? { result: "same" } : { result: "update", reason: "subnets differ" };
    },
    async update(id, spec) {
      const res = await attempt(act("update", id), () =>
        rds.send(new ModifyDBSubnetGroupCommand({ DBSubnetGroupName: id, DBSubnetGroupDescription: spec.description, SubnetIds: spec.subnetIds })),
      );
      return toOut(res.DBSubnetGroup!);
    },
  };
}

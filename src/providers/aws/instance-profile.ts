import {
  AddRoleToInstanceProfileCommand,
  CreateInstanceProfileCommand,
  DeleteInstanceProfileCommand,
  GetInstanceProfileCommand,
  RemoveRoleFromInstanceProfileCommand,
  type InstanceProfile,
} from "@aws-sdk/client-iam";
import type { ResourceKind } from "../../engine/types.js";
import {
  actions,
  attempt,
  createOrAdopt,
  hasStackTags,
  isErrorCode,
  orGone,
  retryNotFound,
  stackTagList,
  tagValue,
  TAG_STACK_ID,
  type AwsKindEnv,
} from "./shared.js";

/** Desired instance profile: a name unique in the account and the role it carries. */
export interface InstanceProfileSpec {
  name: string;
  roleName: string;
}

/** An instance profile as recorded in state (id = profile name). */
export interface InstanceProfileOut {
  name: string;
  arn: string;
  /** The role inside it now; undefined when empty. */
  roleName?: string;
}

const TYPE = "aws.iam.instance-profile";
const GONE = ["NoSuchEntity"];

function toOut(p: InstanceProfile): InstanceProfileOut {
  return { name: p.InstanceProfileName!, arn: p.Arn!, roleName: p.Roles?.[0]?.RoleName };
}

/**
 * The instance profile that hands the server role to the EC2 instance,
 * with the role added: one node, healed by diff/update if the role is missing.
 * Like roles, profiles are global and found by deterministic name + tags.
 */
export function instanceProfileKind(env: AwsKindEnv): ResourceKind<InstanceProfileSpec, InstanceProfileOut> {
  const { iam } = env.clients;
  const act = actions(TYPE, env.region);

  async function get(action: string, name: string): Promise<InstanceProfile | undefined> {
    const res = await attempt(action, () => orGone(GONE, () => iam.send(new GetInstanceProfileCommand({ InstanceProfileName: name }))));
    return res?.InstanceProfile;
  }

  /** Puts exactly `roleName` into the profile (a profile holds at most one role). */
  async function setRole(action: string, name: string, roleName: string, current: string | undefined): Promise<void> {
    await attempt(action, async () => {
      if (current && current !== roleName) {
        await orGone(GONE, () => iam.send(new RemoveRoleFromInstanceProfileCommand({ InstanceProfileName: name, RoleName: current })));
      }
      if (current === roleName) return;
      try {
        await iam.send(new AddRoleToInstanceProfileCommand({ InstanceProfileName: name, RoleName: roleName }));
      } catch (err) {
        // LimitExceeded = the profile already holds a role: a retried create that got this far.
        if (isErrorCode(err, "LimitExceeded")) return;
        // The SDK takes LimitExceeded for throttling and retries it: a call whose first answer was lost
        // may end in a network error instead. What counts is whether the role is in the profile now.
        const now = await orGone(GONE, () => iam.send(new GetInstanceProfileCommand({ InstanceProfileName: name })));
        if (now?.InstanceProfile?.Roles?.some((r) => r.RoleName === roleName)) return;
        throw err;
      }
    });
  }

  return {
    type: TYPE,
    async read(id) {
      const p = await get(act("read", id), id);
      return p ? toOut(p) : undefined;
    },
    async find(tags, spec) {
      // Without a spec there is no name to look up; create() then adopts ours on EntityAlreadyExists.
      if (!spec) return undefined;
      const p = await get(act("find", tags.key), spec.name);
      return p && hasStackTags(p.Tags, tags) ? { id: p.InstanceProfileName!, out: toOut(p) } : undefined;
    },
    async create(spec, ctx) {
      const action = act("create", ctx.tags.key);
      // Same name: ours from an interrupted run (same lineage) is adopted; anyone else's is left alone.
      const res = await createOrAdopt({
        action,
        name: `an instance profile named ${spec.name}`,
        create: () => iam.send(new CreateInstanceProfileCommand({ InstanceProfileName: spec.name, Tags: stackTagList(ctx.tags) })),
        isAlreadyExists: (err) => isErrorCode(err, "EntityAlreadyExists"),
        existing: () => get(action, spec.name),
        isOurs: (p) => tagValue(p.Tags, TAG_STACK_ID) === ctx.tags.stackId,
        hint: "Delete that instance profile, or use another --name for this stack.",
      });
      const profile = res.adopted ?? res.created.InstanceProfile;
      // Just created: IAM may not see the profile yet (NoSuchEntity), so adding the role is retried for a while.
      await retryNotFound(env, GONE, () => setRole(action, spec.name, spec.roleName, profile?.Roles?.[0]?.RoleName));
      return { id: spec.name, out: { name: spec.name, arn: profile!.Arn!, roleName: spec.roleName } };
    },
    async delete(id, _out, ctx) {
      const action = act("delete", ctx.tags.key);
      const p = await get(action, id);
      if (!p) return;
      // A profile must be empty before it can be deleted.
      for (const role of p.Roles ?? []) {
        await attempt(action, () =>
          orGone(GONE, () => iam.send(new RemoveRoleFromInstanceProfileCommand({ InstanceProfileName: id, RoleName: role.RoleName! }))),
        );
      }
      await attempt(action, () => orGone(GONE, () => iam.send(new DeleteInstanceProfileCommand({ InstanceProfileName: id }))));
    },
    // The name is the stack's own: the server, which names it, stays.
    knownOutputs: (spec) => ({ name: spec.name, roleName: spec.roleName }),
    diff(spec, out) {
      if (spec.name !== out.name) return { result: "replace", reason: `name ${out.name} → ${spec.name}` };
      if (spec.roleName !== out.roleName) return { result: "update", reason: out.roleName ? "holds another role" : "holds no role" };
      return { result: "same" };
    },
    async update(id, spec, out) {
      await setRole(act("update", id), id, spec.roleName, out.roleName);
      return { ...out, roleName: spec.roleName };
    },
  };
}

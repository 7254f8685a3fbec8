import {
  CreateRoleCommand,
  DeleteRoleCommand,
  DeleteRolePolicyCommand,
  DetachRolePolicyCommand,
  GetRoleCommand,
  ListAttachedRolePoliciesCommand,
  ListInstanceProfilesForRoleCommand,
  ListRolePoliciesCommand,
  PutRolePolicyCommand,
  RemoveRoleFromInstanceProfileCommand,
  TagRoleCommand,
  type Role,
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
  shortHash,
  stackTagList,
  tagValue,
  TAG_STACK_ID,
  type AwsKindEnv,
} from "./shared.js";

/** Desired role: a name unique in the account, who may assume it, and one inline policy. */
export interface IamRoleSpec {
  name: string;
  description: string;
  assumeRolePolicy: string;
  policyName: string;
  policyDocument: string;
}

/** A role as recorded in state (id = role name). */
export interface IamRoleOut {
  roleName: string;
  arn: string;
  /** Hash of the inline policy last written, from a tag: policy drift in the same single GetRole. */
  policyHash?: string;
}

const TYPE = "aws.iam.role";
const GONE = ["NoSuchEntity"];
const TAG_POLICY = "pilot:policy-sha256";

function toOut(role: Role): IamRoleOut {
  return { roleName: role.RoleName!, arn: role.Arn!, policyHash: tagValue(role.Tags, TAG_POLICY) };
}

/**
 * An IAM role with one inline policy. IAM is global and cannot filter by tag,
 * so the role has a deterministic name (with the lineage in it) and find()
 * looks it up by name and checks its tags.
 */
export function iamRoleKind(env: AwsKindEnv): ResourceKind<IamRoleSpec, IamRoleOut> {
  const { iam } = env.clients;
  const act = actions(TYPE, env.region);

  async function getRole(action: string, name: string): Promise<Role | undefined> {
    const res = await attempt(action, () => orGone(GONE, () => iam.send(new GetRoleCommand({ RoleName: name }))));
    return res?.Role;
  }

  async function putPolicy(action: string, spec: IamRoleSpec): Promise<string> {
    const hash = shortHash(spec.policyDocument);
    await attempt(action, async () => {
      await iam.send(new PutRolePolicyCommand({ RoleName: spec.name, PolicyName: spec.policyName, PolicyDocument: spec.policyDocument }));
      await iam.send(new TagRoleCommand({ RoleName: spec.name, Tags: [{ Key: TAG_POLICY, Value: hash }] }));
    });
    return hash;
  }

  return {
    type: TYPE,
    async read(id) {
      const role = await getRole(act("read", id), id);
      return role ? toOut(role) : undefined;
    },
    async find(tags, spec) {
      // Without a spec there is no name to look up; create() then adopts ours on EntityAlreadyExists.
      if (!spec) return undefined;
      const role = await getRole(act("find", tags.key), spec.name);
      return role && hasStackTags(role.Tags, tags) ? { id: role.RoleName!, out: toOut(role) } : undefined;
    },
    async create(spec, ctx) {
      const action = act("create", ctx.tags.key);
      // Same name: ours from an interrupted run (same lineage) is adopted; anyone else's is left alone.
      const res = await createOrAdopt({
        action,
        name: `an IAM role named ${spec.name}`,
        create: () =>
          iam.send(
            new CreateRoleCommand({
              RoleName: spec.name,
              Description: spec.description,
              AssumeRolePolicyDocument: spec.assumeRolePolicy,
              Tags: stackTagList(ctx.tags),
            }),
          ),
        isAlreadyExists: (err) => isErrorCode(err, "EntityAlreadyExists"),
        existing: () => getRole(action, spec.name),
        isOurs: (role) => tagValue(role.Tags, TAG_STACK_ID) === ctx.tags.stackId,
        hint: "Delete or rename that role, or use another --name for this stack.",
      });
      const role = res.adopted ?? res.created.Role;
      // Just created: IAM may not see the role yet (NoSuchEntity), so writing its policy is retried for a while.
      const policyHash = await retryNotFound(env, GONE, () => putPolicy(action, spec));
      return { id: spec.name, out: { roleName: spec.name, arn: role!.Arn!, policyHash } };
    },
    async delete(id, _out, ctx) {
      const action = act("delete", ctx.tags.key);
      // IAM refuses to delete a role that still has policies or instance profiles.
      const gone = await attempt(action, async () => {
        const inline = await orGone(GONE, () => iam.send(new ListRolePoliciesCommand({ RoleName: id })));
        if (!inline) return true;
        for (const name of inline.PolicyNames ?? []) {
          await orGone(GONE, () => iam.send(new DeleteRolePolicyCommand({ RoleName: id, PolicyName: name })));
        }
        const attached = await orGone(GONE, () => iam.send(new ListAttachedRolePoliciesCommand({ RoleName: id })));
        for (const p of attached?.AttachedPolicies ?? []) {
          await orGone(GONE, () => iam.send(new DetachRolePolicyCommand({ RoleName: id, PolicyArn: p.PolicyArn! })));
        }
        const profiles = await orGone(GONE, () => iam.send(new ListInstanceProfilesForRoleCommand({ RoleName: id })));
        for (const p of profiles?.InstanceProfiles ?? []) {
          await orGone(GONE, () =>
            iam.send(new RemoveRoleFromInstanceProfileCommand({ RoleName: id, InstanceProfileName: p.InstanceProfileName! })),
          );
        }
        return false;
      });
      if (gone) return;
      await attempt(action, () => orGone(GONE, () => iam.send(new DeleteRoleCommand({ RoleName: id }))));
    },
    // The name is the stack's own: a re-created role keeps it, and so does the profile holding it.
    knownOutputs: (spec) => ({ roleName: spec.name }),
    diff(spec, out) {
      if (spec.name !== out.roleName) return { result: "replace", reason: `name ${out.roleName} → ${spec.name}` };
      if (out.policyHash !== shortHash(spec.policyDocument)) return { result: "update", reason: "the server policy changed" };
      return { result: "same" };
    },
    async update(id, spec, out) {
      const policyHash = await putPolicy(act("update", id), spec);
      return { ...out, policyHash };
    },
  };
}

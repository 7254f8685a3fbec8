import type { cloudresourcemanager_v1 } from "googleapis/build/src/apis/cloudresourcemanager/v1.js";
import type { ResourceKind } from "../../engine/types.js";
import { PilotError } from "../../errors.js";
import { isConcurrentChange } from "./errors.js";
import { actions, attempt, setDelta, type GcpKindEnv } from "./shared.js";

/**
 * The least a Waypoint runner on the server needs to push images to Artifact
 * Registry and deploy them to Cloud Run, each with why.
 */
export const SERVER_ROLES = [
  // Push built images to the stack's Artifact Registry repository (waypoint's docker registry step).
  "roles/artifactregistry.writer",
  // Create, update and delete Cloud Run services, but not set their IAM policy (no
  // run.services.setIamPolicy, which roles/run.admin has): Waypoint on the server can never make a
  // service public, even from a hand-written waypoint.hcl whose google-cloud-run releaser tries
  // (it grants allUsers the invoker role on every release). `pilot up` sets who may call an app,
  // with the user's own credentials (src/providers/gcp/cloud-run-release.ts).
  "roles/run.developer",
  // A Cloud Run service runs as a service account; deploying one requires "act as" on it.
  "roles/iam.serviceAccountUser",
  // Attach the stack's Serverless VPC Access connector to a service, so apps reach the database.
  "roles/vpcaccess.user",
].sort();

/** Desired project-level roles for one member ("serviceAccount:EMAIL"). */
export interface ProjectRolesSpec {
  member: string;
  roles: string[];
}

/** What the project's policy grants that member (id = the member). */
export interface ProjectRolesOut {
  member: string;
  roles: string[];
}

const TYPE = "gcp.iam.project-roles";
type Policy = cloudresourcemanager_v1.Schema$Policy;

/** The roles a policy grants to `member` (unconditional bindings only: Pilot writes no conditions). */
function rolesOf(policy: Policy, member: string): string[] {
  return (policy.bindings ?? []).filter((b) => !b.condition && b.members?.includes(member)).map((b) => b.role!).sort();
}

/** The policy with `member` holding exactly `roles` among its unconditional bindings; everyone else untouched. */
export function withRoles(policy: Policy, member: string, roles: string[]): Policy {
  const bindings = (policy.bindings ?? []).map((b) => ({ ...b, members: [...(b.members ?? [])] }));
  for (const b of bindings) {
    if (b.condition) continue;
    const want = roles.includes(b.role!);
    const has = b.members.includes(member);
    if (want && !has) b.members.push(member);
    if (!want && has) b.members = b.members.filter((m) => m !== member);
  }
  for (const role of roles) {
    if (!bindings.some((b) => !b.condition && b.role === role)) bindings.push({ role, members: [member] });
  }
  return { ...policy, bindings: bindings.filter((b) => b.members.length > 0) };
}

/**
 * The server account's roles on the project. A project policy is shared by
 * everyone: Pilot reads it, changes only its own member's bindings and writes
 * it back with the etag it read, reading again when someone else wrote first.
 */
export function projectRolesKind(env: GcpKindEnv): ResourceKind<ProjectRolesSpec, ProjectRolesOut> {
  const { crm } = env.clients;
  const act = actions(TYPE, env.project);

  async function getPolicy(): Promise<Policy> {
    return (await crm.projects.getIamPolicy({ resource: env.project, requestBody: { options: { requestedPolicyVersion: 3 } } })).data;
  }

  /** Read-modify-write with the policy's etag, a few times if others write at the same moment. */
  async function converge(action: string, member: string, roles: string[]): Promise<ProjectRolesOut> {
    for (let tries = 0; ; tries++) {
      const policy = await attempt(action, getPolicy);
      if (setDelta(roles, rolesOf(policy, member)).same) return { member, roles: [...roles].sort() };
      try {
        const next = withRoles(policy, member, roles);
        await crm.projects.setIamPolicy({ resource: env.project, requestBody: { policy: next, updateMask: "bindings,etag" } });
        return { member, roles: [...roles].sort() };
      } catch (err) {
        if (!isConcurrentChange(err) || tries >= 4) throw new PilotError(`${action}: ${(err as Error).message}`, { cause: err });
      }
    }
  }

  return {
    type: TYPE,
    async read(id) {
      const roles = rolesOf(await attempt(act("read", id), getPolicy), id);
      return roles.length > 0 ? { member: id, roles } : undefined;
    },
    async find(tags, spec) {
      if (!spec) return undefined;
      const roles = rolesOf(await attempt(act("find", tags.key), getPolicy), spec.member);
      return roles.length > 0 ? { id: spec.member, out: { member: spec.member, roles } } : undefined;
    },
    async create(spec, ctx) {
      return { id: spec.member, out: await converge(act("create", ctx.tags.key), spec.member, spec.roles) };
    },
    async delete(id, _out, ctx) {
      await converge(act("delete", ctx.tags.key), id, []);
    },
    diff(spec, out) {
      if (spec.member !== out.member) return { result: "replace", reason: "the service account changed" };
      const d = setDelta(spec.roles, out.roles);
      return d.same ? { result: "same" } : { result: "update", reason: `roles differ (+${d.missing.length} -${d.extra.length})` };
    },
    async update(id, spec) {
      return converge(act("update", id), id, spec.roles);
    },
  };
}

import type { iam_v1 } from "googleapis/build/src/apis/iam/v1.js";
import type { ResourceKind } from "../../engine/types.js";
import { isAlreadyExists } from "./errors.js";
import { actions, attempt, createOrAdopt, noteIsOurs, orGone, ownershipNote, untilVisible, type GcpKindEnv } from "./shared.js";

/** Desired service account: the server VM's identity (which the Waypoint runner uses), or the stack's apps'. */
export interface ServiceAccountSpec {
  /** 6-30 characters, derived from the stack and lineage. */
  accountId: string;
  displayName: string;
  /** What it is for, in its description before the ownership note (set at create; default: the server's). */
  purpose?: string;
}

/** A service account as recorded in state (id = its email). */
export interface ServiceAccountOut {
  email: string;
  uniqueId: string;
  /** Disabled outside Pilot: the VM would lose its credentials, so it is enabled again. */
  disabled: boolean;
}

const TYPE = "gcp.iam.service-account";

/** "pilot-<stack, up to 15>-<lineage8>": IAM allows 30 characters. */
export function serviceAccountId(stack: string, lineage: string): string {
  return `pilot-${stack.slice(0, 15)}-${lineage.slice(0, 8)}`;
}

/**
 * "pilot-<stack, up to 10>-<lineage8>-run": the identity the stack's Cloud Run
 * apps run as (29 characters at most; it ends in "-run", never in the
 * lineage's hex as the server's does, so the two never collide).
 */
export function appsServiceAccountId(stack: string, lineage: string): string {
  return `pilot-${stack.slice(0, 10)}-${lineage.slice(0, 8)}-run`;
}

function toOut(sa: iam_v1.Schema$ServiceAccount): ServiceAccountOut {
  return { email: sa.email!, uniqueId: sa.uniqueId!, disabled: sa.disabled === true };
}

/**
 * A service account of the stack (the server's, the apps'). IAM takes no labels: its description says
 * which stack lineage made it. IAM is eventually consistent, so a new
 * account is read back until it is visible before anything binds to it.
 */
export function serviceAccountKind(env: GcpKindEnv): ResourceKind<ServiceAccountSpec, ServiceAccountOut> {
  const { iam } = env.clients;
  const act = actions(TYPE, "global");
  const emailOf = (accountId: string) => `${accountId}@${env.project}.iam.gserviceaccount.com`;
  const get = (email: string) => orGone(async () => (await iam.projects.serviceAccounts.get({ name: `projects/${env.project}/serviceAccounts/${email}` })).data);

  return {
    type: TYPE,
    async read(id) {
      const sa = await attempt(act("read", id), () => get(id));
      return sa ? toOut(sa) : undefined;
    },
    async find(tags, spec) {
      if (!spec) return undefined;
      const sa = await attempt(act("find", tags.key), () => get(emailOf(spec.accountId)));
      return sa && noteIsOurs(sa.description, tags) ? { id: sa.email!, out: toOut(sa) } : undefined;
    },
    async create(spec, ctx) {
      const action = act("create", ctx.tags.key);
      const result = await createOrAdopt({
        action,
        name: `service account ${emailOf(spec.accountId)}`,
        create: async () =>
          (
            await iam.projects.serviceAccounts.create({
              name: `projects/${env.project}`,
              requestBody: {
                accountId: spec.accountId,
                serviceAccount: { displayName: spec.displayName, description: ownershipNote(spec.purpose ?? "Pilot server and Waypoint runner", ctx.tags) },
              },
            })
          ).data,
        isAlreadyExists,
        existing: () => get(emailOf(spec.accountId)),
        isOurs: (sa) => noteIsOurs(sa.description, ctx.tags),
      });
      const sa = result.created ?? result.adopted;
      // A VM or a policy binding that names an account IAM cannot see yet is refused: wait until it is readable.
      await attempt(action, () => untilVisible(env, `service account ${sa.email}`, () => get(sa.email!), { cloud: "Google Cloud" }));
      return { id: sa.email!, out: toOut(sa) };
    },
    async delete(id, _out, ctx) {
      await attempt(act("delete", ctx.tags.key), () =>
        orGone(() => iam.projects.serviceAccounts.delete({ name: `projects/${env.project}/serviceAccounts/${id}` })),
      );
    },
    diff(spec, out) {
      if (emailOf(spec.accountId) !== out.email) return { result: "replace", reason: `account ${out.email} → ${emailOf(spec.accountId)}` };
      if (out.disabled) return { result: "update", reason: "the service account was disabled outside Pilot" };
      return { result: "same" };
    },
    async update(id, _spec, out) {
      await attempt(act("update", id), () => iam.projects.serviceAccounts.enable({ name: `projects/${env.project}/serviceAccounts/${id}`, requestBody: {} }));
      return { ...out, disabled: false };
    },
  };
}

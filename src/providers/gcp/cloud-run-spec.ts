/**
 * The pure half of Pilot's own Cloud Run release (cloud-run-release.ts): who
 * may call a service (its IAM policy), what its revision's environment is
 * (the app's variables as Secret Manager references), where its traffic
 * goes, and the secrets' names. No I/O here, so each rule has table tests.
 */
import { PilotError } from "../../errors.js";

/** The role that lets a principal call a Cloud Run service. */
export const INVOKER_ROLE = "roles/run.invoker";
/** The principals that make whatever they are granted public. */
export const PUBLIC_MEMBERS: readonly string[] = ["allUsers", "allAuthenticatedUsers"];
/** Names Cloud Run sets itself and refuses in a revision's env. */
export const RESERVED_ENV: readonly string[] = ["PORT", "K_SERVICE", "K_REVISION", "K_CONFIGURATION"];

/** The parts of an IAM policy (Cloud Run's, Secret Manager's) the rules read and write. */
export interface PolicyLike {
  version?: number | null;
  etag?: string | null;
  bindings?: { role?: string | null; members?: string[] | null; condition?: unknown }[] | null;
}

/** A policy after a change, with what changed ("allUsers (roles/run.invoker)"). */
export interface PolicyChange<P> {
  policy: P;
  added: string[];
  removed: string[];
}

/**
 * The policy a service should have. Public: `allUsers` holds roles/run.invoker
 * (unconditionally). Private: no binding of any role names `allUsers` or
 * `allAuthenticatedUsers` (Waypoint's releaser granted allUsers before; an
 * app switched back to private loses it). Every other member, role and
 * condition is left as it was, and the etag is kept for the write.
 */
export function withInvokerAccess<P extends PolicyLike>(policy: P, isPublic: boolean): PolicyChange<P> {
  const added: string[] = [];
  const removed: string[] = [];
  let bindings = (policy.bindings ?? []).map((b) => ({ ...b, members: [...(b.members ?? [])] }));
  if (isPublic) {
    const invoker = bindings.find((b) => b.role === INVOKER_ROLE && !b.condition);
    if (!invoker) {
      bindings.push({ role: INVOKER_ROLE, members: ["allUsers"] });
      added.push(`allUsers (${INVOKER_ROLE})`);
    } else if (!invoker.members.includes("allUsers")) {
      invoker.members.push("allUsers");
      added.push(`allUsers (${INVOKER_ROLE})`);
    }
  } else {
    for (const b of bindings) {
      const kept = b.members.filter((m) => !PUBLIC_MEMBERS.includes(m));
      for (const m of b.members) if (PUBLIC_MEMBERS.includes(m)) removed.push(`${m} (${b.role})`);
      b.members = kept;
    }
    bindings = bindings.filter((b) => b.members.length > 0);
  }
  return { policy: { ...policy, bindings }, added, removed };
}

/**
 * The policy with `role` granted to exactly `members` (unconditionally), every
 * other binding as it was: Pilot's own secrets are read by the one identity the
 * app runs as, so an app moved to another account leaves no reader behind.
 */
export function withExactRole<P extends PolicyLike>(policy: P, role: string, members: string[]): PolicyChange<P> {
  const others = (policy.bindings ?? []).filter((b) => b.role !== role || b.condition);
  const before = new Set((policy.bindings ?? []).filter((b) => b.role === role && !b.condition).flatMap((b) => b.members ?? []));
  const want = [...new Set(members)].sort();
  return {
    policy: { ...policy, bindings: [...others, { role, members: want }] },
    added: want.filter((m) => !before.has(m)),
    removed: [...before].filter((m) => !want.includes(m)).sort(),
  };
}

/**
 * "pilot-<stack>_<project>_<app>_": what every secret of one app starts with
 * (or, without project and app, of one stack). Stack, project and app names
 * have no "_" (lowercase letters, digits, hyphens), so no prefix of one app's
 * is another's, however the names are hyphenated.
 */
export function appSecretPrefix(stack: string, project?: string, app?: string): string {
  return project === undefined ? `pilot-${stack}_` : `pilot-${stack}_${project}_${app}_`;
}

/** Secret Manager ids: letters, digits, "-" and "_", 255 at most. */
const SECRET_ID = /^[A-Za-z0-9_-]{1,255}$/;

/** The id of the secret holding one variable of one app: `pilot-<stack>_<project>_<app>_<VARIABLE>`. */
export function appSecretId(stack: string, project: string, app: string, variable: string): string {
  const id = `${appSecretPrefix(stack, project, app)}${variable}`;
  if (!SECRET_ID.test(id)) {
    throw new PilotError(`The variable ${variable} of ${project}/${app} makes the Secret Manager id "${id}", which is not a valid one (letters, digits, - and _, 255 at most).`, {
      hint: `Use a shorter name: \`pilot env unset ${project}/${app} ${variable}\`, then set it under another.`,
    });
  }
  return id;
}

/** One variable as the revision reads it: a secret and its version (a number, pinned). */
export interface SecretRef {
  variable: string;
  secretId: string;
  version: string;
}

/** Cloud Run v1's EnvVar, as far as Pilot uses it. */
export interface EnvVar {
  name?: string | null;
  value?: string | null;
  valueFrom?: { secretKeyRef?: { name?: string | null; key?: string | null } | null } | null;
}

/**
 * A revision's env with the app's variables as secret references. Pilot's
 * references from an earlier release (names starting with the app's prefix)
 * go, and so does any plain entry a variable overrides (`pilot env` wins over
 * the file's `static_environment` and Waypoint's own variables); everything
 * else stays in its place, and the references follow in name order.
 */
export function withSecretEnv(env: EnvVar[] | null | undefined, refs: SecretRef[], ownPrefix: string): EnvVar[] {
  const names = new Set(refs.map((r) => r.variable));
  const kept = (env ?? []).filter((e) => !names.has(e.name ?? "") && !(e.valueFrom?.secretKeyRef?.name ?? "").startsWith(ownPrefix));
  const added = [...refs].sort((a, b) => a.variable.localeCompare(b.variable)).map((r) => ({ name: r.variable, valueFrom: { secretKeyRef: { name: r.secretId, key: r.version } } }));
  return [...kept, ...added];
}

/** Cloud Run v1's TrafficTarget, as far as Pilot uses it. */
export interface TrafficTarget {
  latestRevision?: boolean | null;
  revisionName?: string | null;
  percent?: number | null;
  tag?: string | null;
}

/**
 * Every request to one revision, named: the release's own (or the one the
 * deploy just made). Waypoint's deploy pins the traffic to the revision that
 * served before (platform.go), and its releaser, which would move it, is not
 * used. Not `latestRevision: true`: that follows the newest revision that
 * *started*, so a release whose revision cannot start would leave the traffic
 * on the deploy's revision, which lacks the app's variables; and Waypoint's
 * next deploy turns `latestRevision` into the newest revision *created*,
 * failed or not, and fails when that one is. A named target that cannot
 * start leaves the traffic where it was.
 */
export function allTo(revision: string): TrafficTarget[] {
  return [{ revisionName: revision, percent: 100 }];
}

/** Whether the traffic already goes all to `revision`. */
export function isAllTo(traffic: TrafficTarget[] | null | undefined, revision: string): boolean {
  return traffic?.length === 1 && traffic[0]!.revisionName === revision && traffic[0]!.percent === 100 && !traffic[0]!.latestRevision && !traffic[0]!.tag;
}

/**
 * The name of the revision a release makes: Cloud Run wants the service's
 * name and a dash first, and a DNS label (63 characters; app names have 30 at
 * most). Unique per millisecond, which one `pilot up` at a time per app is.
 */
export function releaseRevisionName(app: string, now: number): string {
  return `${app}-pilot-${now.toString(36)}`;
}

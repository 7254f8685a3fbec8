/**
 * The IAM policy of one resource (a Cloud Run service, a Secret Manager
 * secret), with Google's read-modify-write rules, as crm.ts has them for a
 * project: setIamPolicy with a stale etag is 409 ABORTED, members must be well
 * formed, a service account of a known project must exist, and duplicates are
 * merged. Unlike a project's, a resource's policy may name `allUsers` and
 * `allAuthenticatedUsers` (that is how a Cloud Run service is made public).
 * A new resource's policy is empty.
 */
import { aborted, invalid } from "./errors.js";
import { etag } from "./ids.js";
import type { Call, Obj } from "./types.js";
import { clone } from "./types.js";

export interface ResourcePolicy {
  version: number;
  etag: string;
  bindings: Obj[];
}

export function emptyPolicy(): ResourcePolicy {
  return { version: 1, etag: etag(), bindings: [] };
}

const MEMBER = /^(allUsers|allAuthenticatedUsers|(user|serviceAccount|group|domain|principal|principalSet|deleted:user|deleted:serviceAccount|deleted:group):.+)$/;

/** As Google answers getIamPolicy: `etag` always, `bindings` only when there are any. */
export function renderPolicy(p: ResourcePolicy): Obj {
  const out: Obj = { version: p.version, etag: p.etag };
  if (p.bindings.length) out.bindings = clone(p.bindings);
  return out;
}

/**
 * The policy in a setIamPolicy request and its version, with the checks every
 * resource kind shares (projects too): present, not stale (409 ABORTED), a version Google knows.
 */
export function policyRequest(call: Call, currentEtag: string): { given: Obj; version: number } {
  const given = call.body.policy as Obj | undefined;
  if (!given) throw invalid("Invalid argument: 'policy' is required.", "policy");
  if (given.etag !== undefined && given.etag !== currentEtag) {
    throw aborted("There were concurrent policy changes. Please retry the whole read-modify-write with exponential backoff.");
  }
  const version = given.version ?? 1;
  if (![0, 1, 3].includes(version)) throw invalid(`Invalid policy version ${version}; supported versions are 1 and 3.`, "policy.version");
  return { given, version };
}

/** The policy a setIamPolicy call asks for, checked; throws Google's 400 or 409. */
export function nextPolicy(call: Call, current: ResourcePolicy): ResourcePolicy {
  const w = call.world;
  const { given, version } = policyRequest(call, current.etag);
  const byKey = new Map<string, Obj>();
  for (const b of (given.bindings ?? []) as Obj[]) {
    const role = String(b.role ?? "");
    if (!/^(roles\/|projects\/[^/]+\/roles\/|organizations\/[^/]+\/roles\/)[A-Za-z0-9_.]+$/.test(role)) {
      throw invalid(`Role (${role}) does not exist in the resource's hierarchy.`, "policy.bindings.role");
    }
    if (b.condition && version < 3) throw invalid("Invalid argument: the policy contains a condition but its version is not 3.", "policy.version");
    for (const m of (b.members ?? []) as string[]) {
      if (!MEMBER.test(m)) throw invalid(`Invalid member '${m}'.`, "policy.bindings.members");
      const sa = /^serviceAccount:(.+)@([^.]+)\.iam\.gserviceaccount\.com$/.exec(m);
      if (sa && w.projects.ids().includes(sa[2]!) && !w.iam.find(`${sa[1]}@${sa[2]}.iam.gserviceaccount.com`)) {
        throw invalid(`Service account ${sa[1]}@${sa[2]}.iam.gserviceaccount.com does not exist.`, "policy.bindings.members");
      }
    }
    const key = `${role}|${JSON.stringify(b.condition ?? null)}`;
    const merged = byKey.get(key) ?? { role, members: [] as string[], ...(b.condition ? { condition: b.condition } : {}) };
    merged.members = [...new Set([...merged.members, ...(b.members ?? [])])].sort();
    byKey.set(key, merged);
  }
  const bindings = [...byKey.values()].filter((b) => b.members.length).sort((a, b) => String(a.role).localeCompare(String(b.role)));
  return { version: bindings.some((b) => b.condition) ? 3 : Math.max(1, version), etag: etag(), bindings };
}

/** Whether the policy grants `member` one of `roles` (unconditionally). */
export function grants(p: ResourcePolicy | undefined, member: string, roles: string[]): boolean {
  return (p?.bindings ?? []).some((b) => !b.condition && roles.includes(b.role) && (b.members as string[]).includes(member));
}

/**
 * Cloud Resource Manager v1: projects.get (any project id is "ACTIVE", with
 * a stable number), and the project's IAM policy with Google's
 * read-modify-write rules: setIamPolicy with a stale etag is 409 ABORTED;
 * members must be well formed and service accounts of known projects must
 * exist; conditions need policy version 3. The starting policy has one
 * binding, roles/owner for the owner user.
 */
import { invalid } from "./errors.js";
import { etag, timestamp } from "./ids.js";
import { policyRequest } from "./resource-iam.js";
import type { Call, HandlerTable, Obj } from "./types.js";
import { clone } from "./types.js";

interface Policy {
  version: number;
  etag: string;
  bindings: Obj[];
  auditConfigs?: Obj[];
}

export class CrmState {
  readonly policies = new Map<string, Policy>();
  readonly created = new Map<string, number>();

  policy(project: string, ownerEmail: string): Policy {
    let p = this.policies.get(project);
    if (!p) {
      p = { version: 1, etag: etag(), bindings: [{ role: "roles/owner", members: [`user:${ownerEmail}`] }] };
      this.policies.set(project, p);
    }
    return p;
  }
}

const MEMBER = /^(user|serviceAccount|group|domain|principal|principalSet|deleted:user|deleted:serviceAccount|deleted:group):.+$/;

function renderPolicy(p: Policy): Obj {
  const out: Obj = { version: p.version, etag: p.etag };
  if (p.bindings.length) out.bindings = clone(p.bindings);
  if (p.auditConfigs?.length) out.auditConfigs = clone(p.auditConfigs);
  return out;
}

function checkBindings(call: Call, bindings: Obj[], version: number): Obj[] {
  const w = call.world;
  const byKey = new Map<string, Obj>();
  for (const b of bindings) {
    const role = String(b.role ?? "");
    if (!/^(roles\/|projects\/[^/]+\/roles\/|organizations\/[^/]+\/roles\/)[A-Za-z0-9_.]+$/.test(role)) {
      throw invalid(`Role (${role}) does not exist in the resource's hierarchy.`, "policy.bindings.role");
    }
    if (b.condition && version < 3) {
      throw invalid("Invalid argument: the policy contains a condition but its version is not 3.", "policy.version");
    }
    for (const m of (b.members ?? []) as string[]) {
      if (m === "allUsers" || m === "allAuthenticatedUsers") {
        throw invalid(`Policy members of type '${m}' are not allowed on projects.`, "policy.bindings.members");
      }
      if (!MEMBER.test(m)) throw invalid(`Invalid member '${m}'.`, "policy.bindings.members");
      const sa = /^serviceAccount:(.+)@([^.]+)\.iam\.gserviceaccount\.com$/.exec(m);
      if (sa && w.projects.ids().includes(sa[2]) && !w.iam.find(`${sa[1]}@${sa[2]}.iam.gserviceaccount.com`)) {
        throw invalid(`Service account ${sa[1]}@${sa[2]}.iam.gserviceaccount.com does not exist.`, "policy.bindings.members");
      }
    }
    const key = `${role}|${JSON.stringify(b.condition ?? null)}`;
    const merged = byKey.get(key) ?? { role, members: [] as string[], ...(b.condition ? { condition: b.condition } : {}) };
    merged.members = [...new Set([...merged.members, ...(b.members ?? [])])].sort();
    byKey.set(key, merged);
  }
  return [...byKey.values()].filter((b) => b.members.length).sort((a, b) => String(a.role).localeCompare(String(b.role)));
}

export const crmHandlers: HandlerTable = {
  "cloudresourcemanager.projects.get": (call) => {
    const w = call.world;
    const id = w.projects.idOf(call.params.projectId);
    if (!w.crm.created.has(id)) w.crm.created.set(id, w.now() - 86_400_000);
    return {
      projectNumber: w.projects.numberOf(id),
      projectId: id,
      lifecycleState: "ACTIVE",
      name: id,
      createTime: timestamp(w.crm.created.get(id)!),
    };
  },

  "cloudresourcemanager.projects.getIamPolicy": (call) => {
    const w = call.world;
    const id = w.projects.idOf(call.params.resource);
    return renderPolicy(w.crm.policy(id, w.ownerEmail));
  },

  "cloudresourcemanager.projects.setIamPolicy": (call) => {
    const w = call.world;
    const id = w.projects.idOf(call.params.resource);
    const current = w.crm.policy(id, w.ownerEmail);
    const { given, version } = policyRequest(call, current.etag);
    const bindings = checkBindings(call, (given.bindings ?? []) as Obj[], version);
    const mask = String(call.body.updateMask ?? "bindings,etag");
    const next: Policy = {
      version: bindings.some((b) => b.condition) ? 3 : Math.max(1, version),
      etag: etag(),
      bindings: mask.includes("bindings") ? bindings : current.bindings,
      auditConfigs: mask.includes("auditConfigs") ? given.auditConfigs : current.auditConfigs,
    };
    w.crm.policies.set(id, next);
    return renderPolicy(next);
  },
};

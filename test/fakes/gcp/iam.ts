/**
 * IAM service accounts: create (accountId 6–30 characters, 409 when taken),
 * get (by email or uniqueId, project `-` allowed), list, enable, disable,
 * delete. Google
 * answers these synchronously (no operation); the configured latency for
 * "iam.serviceAccounts" is spent before answering a create instead.
 */
import { alreadyExists, invalid, notFound } from "./errors.js";
import { numericId } from "./ids.js";
import { operationDelay } from "./latency.js";
import { paginate } from "./list-util.js";
import type { Call, HandlerTable, Obj } from "./types.js";
import { clone, queryString } from "./types.js";

export class IamState {
  /** By email. */
  readonly accounts = new Map<string, Obj & { __project: string }>();

  find(emailOrId: string): (Obj & { __project: string }) | undefined {
    const byEmail = this.accounts.get(emailOrId);
    if (byEmail) return byEmail;
    for (const a of this.accounts.values()) if (a.uniqueId === emailOrId) return a;
    return undefined;
  }
}

const ACCOUNT_ID = /^[a-z](?:[-a-z0-9]{4,28}[a-z0-9])$/;

function render(a: Obj): Obj {
  const out = clone(a);
  delete out.__project;
  return out;
}

function projectOfName(call: Call, name: string): string {
  const m = /^projects\/([^/]+)$/.exec(name);
  if (!m) throw invalid(`Invalid resource name '${name}'.`, "name");
  return call.world.projects.idOf(m[1]);
}

function requireAccount(call: Call): Obj & { __project: string } {
  const m = /^projects\/([^/]+)\/serviceAccounts\/([^/]+)$/.exec(call.params.name);
  const a = m ? call.world.iam.find(m[2]) : undefined;
  if (!a || (m && m[1] !== "-" && call.world.projects.idOf(m[1]) !== a.__project)) throw notFound("Unknown service account");
  return a;
}

export const iamHandlers: HandlerTable = {
  "iam.projects.serviceAccounts.create": async (call) => {
    const w = call.world;
    const project = projectOfName(call, call.params.name);
    const accountId = String(call.body.accountId ?? "");
    if (!ACCOUNT_ID.test(accountId)) {
      throw invalid(
        `Invalid account ID '${accountId}': it must be 6 to 30 characters: lowercase letters, digits and hyphens, starting with a letter and not ending with a hyphen.`,
        "account_id",
      );
    }
    const email = `${accountId}@${project}.iam.gserviceaccount.com`;
    if (w.iam.accounts.has(email)) throw alreadyExists(`Service account ${accountId} already exists within project projects/${project}.`);
    const uniqueId = numericId(21);
    const sa: Obj & { __project: string } = {
      name: `projects/${project}/serviceAccounts/${email}`,
      projectId: project,
      uniqueId,
      email,
      etag: "MDEwMjE5MjA=",
      oauth2ClientId: uniqueId,
      __project: project,
    };
    const given = call.body.serviceAccount ?? {};
    if (given.displayName) sa.displayName = given.displayName;
    if (given.description) sa.description = given.description;
    w.iam.accounts.set(email, sa);
    await w.sleep(operationDelay(w.latency, call.methodId, "iam.serviceAccounts"));
    return render(sa);
  },

  "iam.projects.serviceAccounts.get": (call) => render(requireAccount(call)),

  "iam.projects.serviceAccounts.list": (call) => {
    const w = call.world;
    const project = projectOfName(call, call.params.name);
    const items = [...w.iam.accounts.values()].filter((a) => a.__project === project).sort((a, b) => a.email.localeCompare(b.email)).map(render);
    const { page, nextPageToken } = paginate(items, queryString(call.query, "pageSize"), queryString(call.query, "pageToken"), 100);
    const out: Obj = {};
    if (page.length) out.accounts = page;
    if (nextPageToken) out.nextPageToken = nextPageToken;
    return out;
  },

  "iam.projects.serviceAccounts.enable": (call) => {
    delete requireAccount(call).disabled;
    return {};
  },

  "iam.projects.serviceAccounts.disable": (call) => {
    requireAccount(call).disabled = true;
    return {};
  },

  "iam.projects.serviceAccounts.delete": (call) => {
    const a = requireAccount(call);
    call.world.iam.accounts.delete(a.email);
    return {};
  },
};

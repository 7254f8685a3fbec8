/**
 * Secret Manager v1: secrets (create with `?secretId=`, get, list with a
 * label `filter`, delete), their versions (addVersion, get, list, access,
 * disable, enable, destroy) and each secret's IAM policy. As Google does, a
 * secret's name carries the project's number (`projects/123.../secrets/ID`)
 * whichever form the call used; `versions/latest` is the newest version,
 * and accessing a disabled or destroyed one is FAILED_PRECONDITION. A payload
 * with a `dataCrc32c` must match it. Everything is synchronous (no operations).
 */
import { alreadyExists, failedPrecondition, invalid, notFound } from "./errors.js";
import { etag, timestamp } from "./ids.js";
import { applyFilter, paginate } from "./list-util.js";
import { emptyPolicy, nextPolicy, renderPolicy, type ResourcePolicy } from "./resource-iam.js";
import type { Call, HandlerTable, Obj } from "./types.js";
import { clone, queryString } from "./types.js";

interface Version {
  number: number;
  state: "ENABLED" | "DISABLED" | "DESTROYED";
  /** base64, as sent. */
  data?: string;
  createTime: string;
  destroyTime?: string;
  checksummed: boolean;
}

export interface FakeSecret {
  project: string;
  id: string;
  resource: Obj;
  versions: Version[];
  policy: ResourcePolicy;
}

export class SecretManagerState {
  /** By "PROJECT_ID/SECRET_ID". */
  readonly secrets = new Map<string, FakeSecret>();

  get(project: string, id: string): FakeSecret | undefined {
    return this.secrets.get(`${project}/${id}`);
  }
}

/** Google's rule for secret ids. */
const SECRET_ID = /^[a-zA-Z0-9_-]{1,255}$/;
/** Label keys and values (lowercase letters, digits, `_` and `-`; a key starts with a letter). */
const LABEL_KEY = /^[a-z][a-z0-9_-]{0,62}$/;
const LABEL_VALUE = /^[a-z0-9_-]{0,63}$/;
/** Annotation keys: alphanumerics at both ends, `-`, `_` and `.` between; 63 at most. */
const ANNOTATION_KEY = /^[a-zA-Z0-9](?:[a-zA-Z0-9._-]{0,61}[a-zA-Z0-9])?$/;
const MAX_PAYLOAD = 64 * 1024;

/** CRC32C (Castagnoli), as `dataCrc32c` carries it. */
function crc32c(buf: Buffer): number {
  let crc = 0xffffffff;
  for (const byte of buf) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

function parseProject(call: Call, parent: string): string {
  const m = /^projects\/([^/]+)$/.exec(parent);
  if (!m) throw invalid(`Invalid parent '${parent}'.`, "parent");
  return call.world.projects.idOf(m[1]!);
}

function secretAt(call: Call, name: string): FakeSecret {
  const m = /^projects\/([^/]+)\/secrets\/([^/]+)$/.exec(name);
  const s = m ? call.world.secrets.get(call.world.projects.idOf(m[1]!), m[2]!) : undefined;
  if (!s) throw notFound(`Secret [${name}] not found or has no versions.`);
  return s;
}

function versionAt(call: Call, name: string): { secret: FakeSecret; version: Version } {
  const m = /^(projects\/[^/]+\/secrets\/[^/]+)\/versions\/([^/]+)$/.exec(name);
  if (!m) throw invalid(`Invalid version name '${name}'.`, "name");
  const secret = secretAt(call, m[1]!);
  const version = m[2] === "latest" ? secret.versions[secret.versions.length - 1] : secret.versions.find((v) => String(v.number) === m[2]);
  if (!version) throw notFound(`Secret Version [${name}] not found.`);
  return { secret, version };
}

function checkLabels(labels: unknown): void {
  const entries = Object.entries((labels ?? {}) as Record<string, string>);
  if (entries.length > 64) throw invalid("A secret may have at most 64 labels.", "secret.labels");
  for (const [k, v] of entries) {
    if (!LABEL_KEY.test(k) || !LABEL_VALUE.test(String(v))) throw invalid(`Invalid label '${k}': '${v}'.`, "secret.labels");
  }
}

function checkAnnotations(annotations: unknown): void {
  const entries = Object.entries((annotations ?? {}) as Record<string, string>);
  let size = 0;
  for (const [k, v] of entries) {
    if (!ANNOTATION_KEY.test(k)) throw invalid(`Invalid annotation key '${k}'.`, "secret.annotations");
    size += Buffer.byteLength(k) + Buffer.byteLength(String(v));
  }
  if (size > 16 * 1024) throw invalid("The annotations of a secret may total 16 KiB at most.", "secret.annotations");
}

function renderVersion(s: FakeSecret, v: Version, number: string): Obj {
  const out: Obj = {
    name: `projects/${number}/secrets/${s.id}/versions/${v.number}`,
    createTime: v.createTime,
    state: v.state,
    replicationStatus: { automatic: {} },
    etag: `"${v.number}${v.state}"`,
    clientSpecifiedPayloadChecksum: v.checksummed,
  };
  if (v.destroyTime) out.destroyTime = v.destroyTime;
  return out;
}

function setState(call: Call, state: Version["state"]): Obj {
  const { secret, version } = versionAt(call, call.params.name!);
  if (version.state === "DESTROYED") throw failedPrecondition(`Secret Version [${call.params.name}] is in DESTROYED state.`);
  version.state = state;
  if (state === "DESTROYED") {
    delete version.data;
    version.destroyTime = timestamp(call.world.now());
  }
  return renderVersion(secret, version, call.world.projects.numberOf(secret.project));
}

export const secretmanagerHandlers: HandlerTable = {
  "secretmanager.projects.secrets.create": (call) => {
    const w = call.world;
    const project = parseProject(call, call.params.parent!);
    const id = queryString(call.query, "secretId") ?? "";
    if (!SECRET_ID.test(id)) throw invalid(`Invalid secret ID '${id}': 1 to 255 letters, digits, '-' and '_'.`, "secret_id");
    if (w.secrets.get(project, id)) throw alreadyExists(`Secret [projects/${w.projects.numberOf(project)}/secrets/${id}] already exists.`);
    const body = clone(call.body);
    if (!body.replication?.automatic && !body.replication?.userManaged) throw invalid("Secret.replication is required.", "secret.replication");
    checkLabels(body.labels);
    checkAnnotations(body.annotations);
    const resource: Obj = { ...body, name: `projects/${w.projects.numberOf(project)}/secrets/${id}`, createTime: timestamp(w.now()), etag: `"${etag()}"` };
    w.secrets.secrets.set(`${project}/${id}`, { project, id, resource, versions: [], policy: emptyPolicy() });
    return clone(resource);
  },

  "secretmanager.projects.secrets.get": (call) => clone(secretAt(call, call.params.name!).resource),

  "secretmanager.projects.secrets.list": (call) => {
    const w = call.world;
    const project = parseProject(call, call.params.parent!);
    const all = [...w.secrets.secrets.values()].filter((s) => s.project === project).sort((a, b) => a.id.localeCompare(b.id)).map((s) => clone(s.resource));
    const items = applyFilter(all, queryString(call.query, "filter"));
    const { page, nextPageToken } = paginate(items, queryString(call.query, "pageSize"), queryString(call.query, "pageToken"), 25_000);
    const out: Obj = { totalSize: items.length };
    if (page.length) out.secrets = page;
    if (nextPageToken) out.nextPageToken = nextPageToken;
    return out;
  },

  "secretmanager.projects.secrets.delete": (call) => {
    const s = secretAt(call, call.params.name!);
    const want = queryString(call.query, "etag");
    if (want !== undefined && want !== s.resource.etag) throw failedPrecondition(`The etag of Secret [${call.params.name}] does not match.`);
    call.world.secrets.secrets.delete(`${s.project}/${s.id}`);
    return {};
  },

  "secretmanager.projects.secrets.addVersion": (call) => {
    const w = call.world;
    const s = secretAt(call, call.params.parent!);
    const data = call.body.payload?.data as string | undefined;
    if (data === undefined) throw invalid("Payload is required.", "payload");
    // proto3 JSON bytes: base64, standard or URL-safe alphabet, padding optional.
    if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(data) || data.replace(/=+$/, "").length % 4 === 1) throw invalid("Payload data is not valid base64.", "payload.data");
    const bytes = Buffer.from(data.replace(/-/g, "+").replace(/_/g, "/"), "base64");
    if (bytes.length > MAX_PAYLOAD) throw invalid("Secret payload data must be at most 65536 bytes.", "payload.data");
    const given = call.body.payload?.dataCrc32c;
    if (given !== undefined && String(given) !== String(crc32c(bytes))) throw invalid("Checksum mismatch: dataCrc32c does not match the payload.", "payload.data_crc32c");
    const version: Version = { number: s.versions.length + 1, state: "ENABLED", data: bytes.toString("base64"), createTime: timestamp(w.now()), checksummed: given !== undefined };
    s.versions.push(version);
    return renderVersion(s, version, w.projects.numberOf(s.project));
  },

  "secretmanager.projects.secrets.versions.get": (call) => {
    const { secret, version } = versionAt(call, call.params.name!);
    return renderVersion(secret, version, call.world.projects.numberOf(secret.project));
  },

  "secretmanager.projects.secrets.versions.list": (call) => {
    const s = secretAt(call, call.params.parent!);
    const number = call.world.projects.numberOf(s.project);
    const items = [...s.versions].reverse().map((v) => renderVersion(s, v, number));
    const { page, nextPageToken } = paginate(applyFilter(items, queryString(call.query, "filter")), queryString(call.query, "pageSize"), queryString(call.query, "pageToken"), 25_000);
    const out: Obj = { totalSize: items.length };
    if (page.length) out.versions = page;
    if (nextPageToken) out.nextPageToken = nextPageToken;
    return out;
  },

  "secretmanager.projects.secrets.versions.access": (call) => {
    const { secret, version } = versionAt(call, call.params.name!);
    const name = `projects/${call.world.projects.numberOf(secret.project)}/secrets/${secret.id}/versions/${version.number}`;
    if (version.state !== "ENABLED") throw failedPrecondition(`Secret Version [${name}] is in ${version.state} state.`);
    const bytes = Buffer.from(version.data!, "base64");
    return { name, payload: { data: version.data, dataCrc32c: String(crc32c(bytes)) } };
  },

  "secretmanager.projects.secrets.versions.disable": (call) => setState(call, "DISABLED"),
  "secretmanager.projects.secrets.versions.enable": (call) => setState(call, "ENABLED"),
  "secretmanager.projects.secrets.versions.destroy": (call) => setState(call, "DESTROYED"),

  "secretmanager.projects.secrets.getIamPolicy": (call) => renderPolicy(secretAt(call, call.params.resource!).policy),

  "secretmanager.projects.secrets.setIamPolicy": (call) => {
    const s = secretAt(call, call.params.resource!);
    s.policy = nextPolicy(call, s.policy);
    return renderPolicy(s.policy);
  },
};

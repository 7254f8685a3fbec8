/**
 * Cloud Run Admin API v1: services in Knative's shape through the
 * `namespaces` collection (create, get, list, replaceService, delete, as
 * Waypoint's google-cloud-run plugin and Pilot call them), the same services
 * through `projects.locations.services` (get, list), and each service's IAM
 * policy (getIamPolicy, setIamPolicy: how a service is made public).
 *
 * How the fake behaves like Cloud Run where its clients depend on it:
 *  - a change of `spec.template` makes a new revision (`NAME-0000N-xyz`);
 *    any spec change raises `metadata.generation`; every write changes
 *    `metadata.resourceVersion`, and a replace naming an older one is 409;
 *  - a spec change is observed at once (`observedGeneration`), with `Ready`
 *    Unknown while the change rolls out: a new revision takes the
 *    "run.revisions" latency to start, the traffic staying where it was; then
 *    `Ready` is True, or False when the revision cannot start: a
 *    failed-operation fault on the call (the app crashed), or a
 *    secret its env names (`valueFrom.secretKeyRef`) that is missing,
 *    disabled, or not readable by the revision's service account (its
 *    `serviceAccountName`, or the project's default compute account);
 *  - a template may name its revision (`metadata.name`, prefixed by the
 *    service's name; a name taken by another template is 409);
 *  - traffic targets must add up to 100 and name revisions that exist (or
 *    the one the same request makes); `latestRevision: true` serves the
 *    latest ready revision; a new service with no traffic gets that by
 *    default. A target naming a revision that never starts leaves the
 *    traffic served as it was (`status.traffic`), and the service not Ready;
 *  - the env of a container may not repeat a name, set a reserved one (PORT,
 *    K_SERVICE, K_REVISION, K_CONFIGURATION) or have both `value` and `valueFrom`.
 *
 * The namespaces collection names no region (Google routes it by the regional
 * endpoint); the fake puts a service in its `cloud.googleapis.com/location`
 * label's region, else in `RunState.defaultRegion` (europe-west1).
 */
import { alreadyExists, GcpError, invalid, notFound } from "./errors.js";
import { etag, hex, stableJson, timestamp, uuid } from "./ids.js";
import { operationDelay } from "./latency.js";
import { paginate } from "./list-util.js";
import { emptyPolicy, grants, nextPolicy, renderPolicy, type ResourcePolicy } from "./resource-iam.js";
import type { Call, HandlerTable, Obj } from "./types.js";
import { clone, queryString } from "./types.js";
import type { World } from "./world.js";

interface Revision {
  name: string;
  /** The service generation that made it. */
  generation: number;
  template: Obj;
  state: "pending" | "ready" | "failed";
  message?: string;
}

export interface FakeRunService {
  project: string;
  region: string;
  name: string;
  uid: string;
  createdAt: number;
  generation: number;
  /** True while the latest spec change rolls out (Ready is Unknown). */
  rolling: boolean;
  /** The traffic as served (`status.traffic`): the last spec traffic whose every target could be served. */
  served?: Obj[];
  /** Why the spec's traffic is not served, when it is not. */
  routeProblem?: string;
  resourceVersion: string;
  metadata: Obj;
  spec: Obj;
  revisions: Revision[];
  policy: ResourcePolicy;
}

export class RunState {
  /** By "PROJECT_ID/NAME". */
  readonly services = new Map<string, FakeRunService>();
  defaultRegion = "europe-west1";
}

export const LOCATION_LABEL = "cloud.googleapis.com/location";
const SERVICE_NAME = /^[a-z](?:[-a-z0-9]{0,47}[a-z0-9])?$/;
const RESERVED_ENV = ["PORT", "K_SERVICE", "K_REVISION", "K_CONFIGURATION"];
const ACCESSOR_ROLES = ["roles/secretmanager.secretAccessor", "roles/secretmanager.admin", "roles/owner"];

/** The account a revision runs as when its template names none. */
export function defaultComputeAccount(w: World, project: string): string {
  return `${w.projects.numberOf(project)}-compute@developer.gserviceaccount.com`;
}

function conflict(): GcpError {
  return new GcpError(409, "the object has been modified; please apply your changes to the latest version and try again", { status: "ABORTED", reason: "conflict" });
}

function namespaceProject(call: Call, namespace: string): string {
  const m = /^namespaces\/([^/]+)$/.exec(namespace);
  if (!m) throw invalid(`Invalid parent '${namespace}'.`, "parent");
  return call.world.projects.idOf(m[1]!);
}

function byNamespaceName(call: Call): FakeRunService {
  const m = /^namespaces\/([^/]+)\/services\/([^/]+)$/.exec(call.params.name!);
  const s = m ? call.world.run.services.get(`${call.world.projects.idOf(m[1]!)}/${m[2]}`) : undefined;
  if (!s) throw notFound(`Resource '${m?.[2] ?? call.params.name}' of kind 'SERVICE' in region '${call.world.run.defaultRegion}' in project '${m?.[1]}' does not exist.`);
  return s;
}

function byResourceName(call: Call, name: string): FakeRunService {
  const m = /^projects\/([^/]+)\/locations\/([^/]+)\/services\/([^/]+)$/.exec(name);
  const s = m ? call.world.run.services.get(`${call.world.projects.idOf(m[1]!)}/${m[3]}`) : undefined;
  if (!s || s.region !== m![2]) throw notFound(`Resource '${m?.[3] ?? name}' of kind 'SERVICE' in region '${m?.[2]}' in project '${m?.[1]}' does not exist.`);
  return s;
}

function checkEnv(template: Obj): void {
  (template.spec?.containers ?? []).forEach((c: Obj, ci: number) => {
    const seen = new Set<string>();
    (c.env ?? []).forEach((e: Obj, ei: number) => {
      const where = `spec.template.spec.containers[${ci}].env[${ei}]`;
      if (!e.name) throw invalid(`${where}.name: Required value`, where);
      if (RESERVED_ENV.includes(e.name)) throw invalid(`${where}.name: The following reserved env names were provided: ${e.name}. These values are automatically set by the system.`, where);
      if (seen.has(e.name)) throw invalid(`${where}.name: Duplicate value: "${e.name}"`, where);
      seen.add(e.name);
      if (e.value !== undefined && e.valueFrom) throw invalid(`${where}: may not have both value and valueFrom`, where);
      const ref = e.valueFrom?.secretKeyRef;
      if (e.valueFrom && (!ref?.name || !ref?.key)) throw invalid(`${where}.valueFrom.secretKeyRef: name and key are required`, where);
    });
  });
}

function checkServiceAccount(call: Call, template: Obj): void {
  const sa = template.spec?.serviceAccountName as string | undefined;
  const m = sa ? /^[^@]+@([^.]+)\.iam\.gserviceaccount\.com$/.exec(sa) : null;
  if (sa && m && call.world.projects.ids().includes(m[1]!) && !call.world.iam.find(sa)) {
    throw invalid(`Service account ${sa} does not exist.`, "spec.template.spec.serviceAccountName");
  }
  if (sa && !m && !/^\d+-compute@developer\.gserviceaccount\.com$/.test(sa)) throw invalid(`Invalid service account '${sa}'.`, "spec.template.spec.serviceAccountName");
}

/** Why a revision of `service` with this template cannot start, if a secret it names is not there for it. */
function secretProblem(w: World, service: FakeRunService, template: Obj): string | undefined {
  const account = (template.spec?.serviceAccountName as string | undefined) || defaultComputeAccount(w, service.project);
  const member = `serviceAccount:${account}`;
  const number = w.projects.numberOf(service.project);
  for (const c of template.spec?.containers ?? []) {
    for (const e of c.env ?? []) {
      const ref = e.valueFrom?.secretKeyRef;
      if (!ref) continue;
      const id = String(ref.name).replace(/^projects\/[^/]+\/secrets\//, "");
      const full = `projects/${number}/secrets/${id}/versions/${ref.key}`;
      const secret = w.secrets.get(service.project, id);
      const version = secret && (ref.key === "latest" ? secret.versions[secret.versions.length - 1] : secret.versions.find((v) => String(v.number) === String(ref.key)));
      if (!secret || !version) return `spec.template.spec.containers[0].env.valueFrom.secretKeyRef.name: Secret ${full} was not found`;
      if (version.state !== "ENABLED") return `spec.template.spec.containers[0].env.valueFrom.secretKeyRef.name: Secret ${full} is in ${version.state} state`;
      const projectPolicy = w.crm.policies.get(service.project);
      if (!grants(secret.policy, member, ACCESSOR_ROLES) && !grants(projectPolicy as ResourcePolicy | undefined, member, ACCESSOR_ROLES)) {
        return (
          `spec.template.spec.containers[0].env.valueFrom.secretKeyRef.name: Permission denied on secret: ${full} for Revision service account ${account}. ` +
          "The service account used must be granted the 'Secret Manager Secret Accessor' role (roles/secretmanager.secretAccessor) at the secret, project or higher level."
        );
      }
    }
  }
  return undefined;
}

function checkTraffic(s: FakeRunService, traffic: Obj[], making?: string): void {
  let sum = 0;
  for (const t of traffic) {
    const percent = Number(t.percent ?? 0);
    if (!Number.isInteger(percent) || percent < 0 || percent > 100) throw invalid(`spec.traffic.percent: Invalid value: ${t.percent}`, "spec.traffic");
    if (t.latestRevision && t.revisionName) throw invalid("spec.traffic: may not set revisionName when latestRevision is true", "spec.traffic");
    if (!t.latestRevision && !t.revisionName) throw invalid("spec.traffic: expected exactly one, got neither: revisionName, latestRevision", "spec.traffic");
    if (t.revisionName && t.revisionName !== making && !s.revisions.some((r) => r.name === t.revisionName)) throw invalid(`spec.traffic: Revision named '${t.revisionName}' does not exist.`, "spec.traffic");
    sum += percent;
  }
  if (traffic.length > 0 && sum !== 100) throw invalid(`spec.traffic: Traffic targets sum to ${sum}, want 100`, "spec.traffic");
}

function bump(s: FakeRunService): void {
  s.resourceVersion = etag();
}

/** The name a new revision of this template gets: its own `metadata.name`, else `NAME-0000N-xyz`. */
function revisionName(s: FakeRunService, template: Obj): string {
  const own = template.metadata?.name as string | undefined;
  if (own !== undefined) {
    if (!own.startsWith(`${s.name}-`) || !/^[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?$/.test(own)) {
      throw invalid(`spec.template.metadata.name: Invalid value: "${own}": must be prefixed by the service name and a dash ("${s.name}-")`, "spec.template.metadata.name");
    }
    if (s.revisions.some((r) => r.name === own)) throw alreadyExists(`Revision named '${own}' with different configuration already exists.`);
    return own;
  }
  return `${s.name}-${String(s.revisions.length + 1).padStart(5, "0")}-${hex(2).slice(0, 3)}`;
}

/** The spec's traffic with every target resolved to a ready revision, or why it cannot be served. */
function resolveTraffic(s: FakeRunService): { served?: Obj[]; problem?: string } {
  const latest = [...s.revisions].reverse().find((r) => r.state === "ready");
  const out: Obj[] = [];
  for (const t of (s.spec.traffic ?? []) as Obj[]) {
    if (t.latestRevision) {
      if (!latest) return { problem: "No revision of the service is ready." };
      out.push({ latestRevision: true, revisionName: latest.name, percent: t.percent ?? 0 });
    } else {
      const r = s.revisions.find((x) => x.name === t.revisionName);
      if (r?.state !== "ready") return { problem: `Revision '${t.revisionName}' is not ready and cannot serve traffic.${r?.message ? ` ${r.message}` : ""}` };
      out.push({ revisionName: t.revisionName, percent: t.percent ?? 0 });
    }
  }
  return { served: out };
}

/** Starts the template's revision (when the template changed), and settles the status after its start-up time. */
function rollOut(call: Call, s: FakeRunService, revision: string | undefined): void {
  const w = call.world;
  const generation = s.generation;
  s.rolling = true;
  let made: Revision | undefined;
  if (revision) {
    made = { name: revision, generation, template: clone(s.spec.template ?? {}), state: "pending" };
    s.revisions.push(made);
  }
  const failure = call.failOperation;
  w.timeline.at(w.now() + operationDelay(w.latency, call.methodId, "run.revisions"), () => {
    if (made) {
      const problem = failure ? failure.message : secretProblem(w, s, made.template);
      made.state = problem ? "failed" : "ready";
      if (problem) made.message = problem;
    }
    if (s.generation === generation) {
      s.rolling = false;
      const { served, problem } = resolveTraffic(s);
      if (served) s.served = served;
      s.routeProblem = problem;
    }
    bump(s);
  });
}

function render(w: World, s: FakeRunService): Obj {
  const number = w.projects.numberOf(s.project);
  const url = `https://${s.name}-${number}.${s.region}.run.app`;
  const created = s.revisions[s.revisions.length - 1];
  const configFailed = !s.rolling && created?.state === "failed";
  const routeFailed = !s.rolling && s.routeProblem !== undefined;
  const now = timestamp(w.now());
  const condition = (type: string, failed: boolean, message?: string) => ({
    type,
    status: s.rolling ? "Unknown" : failed ? "False" : "True",
    lastTransitionTime: now,
    ...(s.rolling ? { reason: "Deploying", message: "Deploying Revision." } : {}),
    ...(!s.rolling && failed ? { reason: "RevisionFailed", message } : {}),
  });
  const configMessage = configFailed ? `Revision '${created.name}' is not ready and cannot serve traffic. ${created.message}` : undefined;
  const status: Obj = {
    observedGeneration: s.generation,
    conditions: [
      condition("Ready", configFailed || routeFailed, configMessage ?? s.routeProblem),
      condition("ConfigurationsReady", configFailed, configMessage),
      condition("RoutesReady", routeFailed, s.routeProblem),
    ],
    url,
    address: { url },
  };
  if (created) status.latestCreatedRevisionName = created.name;
  const latestReady = [...s.revisions].reverse().find((r) => r.state === "ready");
  if (latestReady) status.latestReadyRevisionName = latestReady.name;
  if (s.served) status.traffic = clone(s.served);
  return {
    apiVersion: "serving.knative.dev/v1",
    kind: "Service",
    metadata: {
      ...clone(s.metadata),
      name: s.name,
      namespace: number,
      selfLink: `/apis/serving.knative.dev/v1/namespaces/${number}/services/${s.name}`,
      uid: s.uid,
      resourceVersion: s.resourceVersion,
      generation: s.generation,
      creationTimestamp: timestamp(s.createdAt),
      labels: { ...(s.metadata.labels ?? {}), [LOCATION_LABEL]: s.region },
    },
    spec: clone(s.spec),
    status,
  };
}

function checkBody(body: Obj): void {
  if (body.apiVersion !== "serving.knative.dev/v1") throw invalid(`apiVersion: Unsupported value: "${body.apiVersion}": supported values: "serving.knative.dev/v1"`, "apiVersion");
  if (body.kind !== "Service") throw invalid(`kind: Unsupported value: "${body.kind}": supported values: "Service"`, "kind");
  const name = body.metadata?.name;
  if (!name || !SERVICE_NAME.test(name)) throw invalid(`metadata.name: Invalid value: "${name}": must be 1-49 lowercase letters, digits or hyphens, starting with a letter`, "metadata.name");
  const containers = body.spec?.template?.spec?.containers ?? [];
  if (containers.length !== 1 || !containers[0].image) throw invalid("spec.template.spec.containers: exactly one container with an image is required", "spec.template.spec.containers");
  checkEnv(body.spec.template);
}

export const runHandlers: HandlerTable = {
  "run.namespaces.services.create": (call) => {
    const w = call.world;
    const project = namespaceProject(call, call.params.parent!);
    const body = clone(call.body);
    checkBody(body);
    const name = body.metadata.name as string;
    if (w.run.services.has(`${project}/${name}`)) throw alreadyExists(`Resource '${name}' already exists.`);
    checkServiceAccount(call, body.spec.template);
    const metadata = { ...(body.metadata.labels ? { labels: body.metadata.labels } : {}), ...(body.metadata.annotations ? { annotations: body.metadata.annotations } : {}) };
    const s: FakeRunService = {
      project,
      region: body.metadata.labels?.[LOCATION_LABEL] ?? w.run.defaultRegion,
      name,
      uid: uuid(),
      createdAt: w.now(),
      generation: 1,
      rolling: false,
      resourceVersion: etag(),
      metadata,
      spec: { template: body.spec.template, traffic: body.spec.traffic?.length ? body.spec.traffic : [{ latestRevision: true, percent: 100 }] },
      revisions: [],
      policy: emptyPolicy(),
    };
    const revision = revisionName(s, s.spec.template);
    checkTraffic(s, s.spec.traffic, revision);
    w.run.services.set(`${project}/${name}`, s);
    rollOut(call, s, revision);
    return render(w, s);
  },

  "run.namespaces.services.get": (call) => render(call.world, byNamespaceName(call)),

  "run.namespaces.services.list": (call) => {
    const w = call.world;
    const project = namespaceProject(call, call.params.parent!);
    const items = [...w.run.services.values()].filter((s) => s.project === project).sort((a, b) => a.name.localeCompare(b.name)).map((s) => render(w, s));
    const { page, nextPageToken } = paginate(items, queryString(call.query, "limit"), queryString(call.query, "continue"), 500);
    return { apiVersion: "serving.knative.dev/v1", kind: "ServiceList", items: page, metadata: nextPageToken ? { continue: nextPageToken } : {} };
  },

  "run.namespaces.services.replaceService": (call) => {
    const w = call.world;
    const s = byNamespaceName(call);
    const body = clone(call.body);
    checkBody(body);
    if (body.metadata.name !== s.name) throw invalid(`metadata.name: Invalid value: "${body.metadata.name}": must be "${s.name}"`, "metadata.name");
    if (body.metadata.resourceVersion !== undefined && body.metadata.resourceVersion !== s.resourceVersion) throw conflict();
    checkServiceAccount(call, body.spec.template);
    const traffic = (body.spec.traffic?.length ? body.spec.traffic : [{ latestRevision: true, percent: 100 }]) as Obj[];
    const next = { template: body.spec.template, traffic };
    const templateChanged = stableJson(next.template) !== stableJson(s.revisions[s.revisions.length - 1]?.template ?? null);
    const revision = templateChanged ? revisionName(s, next.template) : undefined;
    checkTraffic(s, traffic, revision);
    const specChanged = stableJson(next) !== stableJson(s.spec);
    s.spec = next;
    s.metadata = { ...(body.metadata.labels ? { labels: body.metadata.labels } : {}), ...(body.metadata.annotations ? { annotations: body.metadata.annotations } : {}) };
    delete s.metadata.labels?.[LOCATION_LABEL];
    if (specChanged) {
      s.generation++;
      rollOut(call, s, revision);
    }
    bump(s);
    return render(w, s);
  },

  "run.namespaces.services.delete": (call) => {
    const w = call.world;
    const s = byNamespaceName(call);
    w.run.services.delete(`${s.project}/${s.name}`);
    return { status: "Success", details: { name: s.name, kind: "services", uid: s.uid } };
  },

  "run.projects.locations.services.get": (call) => render(call.world, byResourceName(call, call.params.name!)),

  "run.projects.locations.services.list": (call) => {
    const w = call.world;
    const m = /^projects\/([^/]+)\/locations\/([^/]+)$/.exec(call.params.parent!);
    if (!m) throw invalid(`Invalid parent '${call.params.parent}'.`, "parent");
    const project = w.projects.idOf(m[1]!);
    const items = [...w.run.services.values()].filter((s) => s.project === project && (m[2] === "-" || s.region === m[2])).map((s) => render(w, s));
    return { apiVersion: "serving.knative.dev/v1", kind: "ServiceList", items, metadata: {} };
  },

  "run.projects.locations.services.getIamPolicy": (call) => renderPolicy(byResourceName(call, call.params.resource!).policy),

  "run.projects.locations.services.setIamPolicy": (call) => {
    const s = byResourceName(call, call.params.resource!);
    s.policy = nextPolicy(call, s.policy);
    return renderPolicy(s.policy);
  },
};

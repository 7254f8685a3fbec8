/**
 * Service Usage: which APIs are enabled in a project. The APIs the
 * fake serves start enabled, but for Artifact Registry, Cloud Run and Secret
 * Manager, which a new project has off (any other service starts disabled);
 * control.disableApi makes every request to an API answer 403
 * SERVICE_DISABLED (see disabledError), batchGet reports it DISABLED, and
 * batchEnable/enable turn it back on when their operation finishes.
 */
import type { ApiName } from "./discovery.js";
import { GcpError, invalid } from "./errors.js";
import { uuid } from "./ids.js";
import { applyFilter, paginate } from "./list-util.js";
import type { Call, HandlerTable, Obj } from "./types.js";
import { queryList, queryString } from "./types.js";

export const SERVICE_OF_API: Record<ApiName, string> = {
  compute: "compute.googleapis.com",
  sqladmin: "sqladmin.googleapis.com",
  servicenetworking: "servicenetworking.googleapis.com",
  vpcaccess: "vpcaccess.googleapis.com",
  iam: "iam.googleapis.com",
  cloudresourcemanager: "cloudresourcemanager.googleapis.com",
  serviceusage: "serviceusage.googleapis.com",
  artifactregistry: "artifactregistry.googleapis.com",
  run: "run.googleapis.com",
  secretmanager: "secretmanager.googleapis.com",
};

/** Titles as the discovery documents (and Google's error messages) spell them. */
export const SERVICE_TITLES: Record<string, string> = {
  "compute.googleapis.com": "Compute Engine API",
  "sqladmin.googleapis.com": "Cloud SQL Admin API",
  "servicenetworking.googleapis.com": "Service Networking API",
  "vpcaccess.googleapis.com": "Serverless VPC Access API",
  "iam.googleapis.com": "Identity and Access Management (IAM) API",
  "cloudresourcemanager.googleapis.com": "Cloud Resource Manager API",
  "serviceusage.googleapis.com": "Service Usage API",
  "artifactregistry.googleapis.com": "Artifact Registry API",
  "run.googleapis.com": "Cloud Run Admin API",
  "secretmanager.googleapis.com": "Secret Manager API",
};

/** Served by the fake, but off in a new project as in Google's (the GCP provider's checks name them). */
const STARTS_DISABLED = ["artifactregistry.googleapis.com", "run.googleapis.com", "secretmanager.googleapis.com"];

export class UsageState {
  readonly disabled = new Set<string>(STARTS_DISABLED);
  readonly enabledExtra = new Set<string>();

  isEnabled(service: string): boolean {
    if (this.disabled.has(service)) return false;
    return service in SERVICE_TITLES || this.enabledExtra.has(service);
  }

  enable(service: string): void {
    this.disabled.delete(service);
    if (!(service in SERVICE_TITLES)) this.enabledExtra.add(service);
  }

  disable(service: string): void {
    this.enabledExtra.delete(service);
    if (service in SERVICE_TITLES) this.disabled.add(service);
  }
}

/** The 403 Google sends for any call to an API not enabled in the consumer project. */
export function disabledError(service: string, projectNumber: string): GcpError {
  const title = SERVICE_TITLES[service] ?? service;
  const url = `https://console.developers.google.com/apis/api/${service}/overview?project=${projectNumber}`;
  const message = `${title} has not been used in project ${projectNumber} before or it is disabled. Enable it by visiting ${url} then retry. If you enabled this API recently, wait a few minutes for the action to propagate to our systems and retry.`;
  return new GcpError(403, message, {
    status: "PERMISSION_DENIED",
    reason: "accessNotConfigured",
    domain: "usageLimits",
    errorExtra: { extendedHelp: "https://console.developers.google.com" },
    details: [
      {
        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
        reason: "SERVICE_DISABLED",
        domain: "googleapis.com",
        metadata: { service, consumer: `projects/${projectNumber}`, serviceTitle: title, containerInfo: projectNumber, activationUrl: url },
      },
      {
        "@type": "type.googleapis.com/google.rpc.LocalizedMessage",
        locale: "en-US",
        message,
      },
      { "@type": "type.googleapis.com/google.rpc.Help", links: [{ description: `Google developers console API activation`, url }] },
    ],
  });
}

function serviceJson(call: Call, project: string, service: string): Obj {
  const number = call.world.projects.numberOf(project);
  return {
    name: `projects/${number}/services/${service}`,
    config: { name: service, title: SERVICE_TITLES[service] ?? service },
    state: call.world.usage.isEnabled(service) ? "ENABLED" : "DISABLED",
    parent: `projects/${number}`,
  };
}

function parentProject(call: Call, parent: string): string {
  const m = /^projects\/([^/]+)$/.exec(parent);
  if (!m) throw invalid(`Invalid parent '${parent}'; expected projects/{project}.`, "parent");
  return call.world.projects.idOf(m[1]);
}

function parseServiceName(call: Call, name: string, project?: string): { project: string; service: string } {
  const m = /^projects\/([^/]+)\/services\/([^/]+)$/.exec(name);
  if (!m) throw invalid(`Invalid service name '${name}'; expected projects/{project}/services/{service}.`, "names");
  const p = call.world.projects.idOf(m[1]);
  if (project && p !== project) throw invalid(`Service '${name}' is not in the parent project.`, "names");
  return { project: p, service: m[2] };
}

function enableOp(call: Call, project: string, services: string[], single: boolean): object {
  const w = call.world;
  return w.lro.start(call, {
    name: `operations/acat.p2-${w.projects.numberOf(project)}-${uuid()}`,
    kind: "serviceusage.services",
    finish: () => {
      const bad = services.filter((s) => !s.endsWith(".googleapis.com"));
      if (bad.length) throw new GcpError(403, `Not found or permission denied for service(s): ${bad.join(", ")}.`);
      for (const s of services) w.usage.enable(s);
      return single
        ? { "@type": "type.googleapis.com/google.api.serviceusage.v1.EnableServiceResponse", service: serviceJson(call, project, services[0]) }
        : { "@type": "type.googleapis.com/google.api.serviceusage.v1.BatchEnableServicesResponse", services: services.map((s) => serviceJson(call, project, s)) };
    },
  });
}

export const serviceusageHandlers: HandlerTable = {
  "serviceusage.services.batchGet": (call) => {
    const project = parentProject(call, call.params.parent);
    const names = queryList(call.query, "names");
    if (!names.length) throw invalid("Invalid request: names must not be empty.", "names");
    if (names.length > 30) throw invalid("Invalid request: at most 30 names.", "names");
    return { services: names.map((n) => serviceJson(call, project, parseServiceName(call, n, project).service)) };
  },

  "serviceusage.services.get": (call) => {
    const { project, service } = parseServiceName(call, call.params.name);
    return serviceJson(call, project, service);
  },

  "serviceusage.services.list": (call) => {
    const w = call.world;
    const project = parentProject(call, call.params.parent);
    const all = [...new Set([...Object.keys(SERVICE_TITLES), ...w.usage.enabledExtra])].sort().map((s) => serviceJson(call, project, s));
    const items = applyFilter(all, queryString(call.query, "filter"));
    const { page, nextPageToken } = paginate(items, queryString(call.query, "pageSize"), queryString(call.query, "pageToken"), 200);
    const out: Obj = {};
    if (page.length) out.services = page;
    if (nextPageToken) out.nextPageToken = nextPageToken;
    return out;
  },

  "serviceusage.services.batchEnable": (call) => {
    const project = parentProject(call, call.params.parent);
    const ids = (call.body.serviceIds ?? []) as string[];
    if (!ids.length) throw invalid("Invalid request: serviceIds must not be empty.", "serviceIds");
    if (ids.length > 20) throw invalid("Invalid request: at most 20 serviceIds.", "serviceIds");
    return enableOp(call, project, ids, false);
  },

  "serviceusage.services.enable": (call) => {
    const { project, service } = parseServiceName(call, call.params.name);
    return enableOp(call, project, [service], true);
  },

  "serviceusage.services.disable": (call) => {
    const w = call.world;
    const { project, service } = parseServiceName(call, call.params.name);
    return w.lro.start(call, {
      name: `operations/acat.p2-${w.projects.numberOf(project)}-${uuid()}`,
      kind: "serviceusage.services",
      finish: () => {
        w.usage.disable(service);
        return { "@type": "type.googleapis.com/google.api.serviceusage.v1.DisableServiceResponse", service: serviceJson(call, project, service) };
      },
    });
  },

  "serviceusage.operations.get": (call) => call.world.lro.get("serviceusage", call.params.name),
};

/**
 * The Google APIs a Pilot stack needs, checked in one call before anything
 * is created: a project with one of them disabled would otherwise fail
 * half-way through a run. `--enable-apis` turns them on for the user.
 */
import { PilotError } from "../../errors.js";
import type { GcpClients } from "./clients.js";
import { disabledService } from "./errors.js";
import { waitLro, type GcpKindEnv } from "./shared.js";

/** Each API with why Pilot needs it. */
export const REQUIRED_APIS: Record<string, string> = {
  "compute.googleapis.com": "the network, firewall, address and server VM",
  "sqladmin.googleapis.com": "the Cloud SQL database",
  "servicenetworking.googleapis.com": "the database's private address in the network",
  "vpcaccess.googleapis.com": "the connector Cloud Run apps reach the database through",
  "iam.googleapis.com": "the server's service account",
  "cloudresourcemanager.googleapis.com": "the project and its IAM policy",
  "artifactregistry.googleapis.com": "the apps' container images",
  "run.googleapis.com": "the apps on Cloud Run",
  "secretmanager.googleapis.com": "the Cloud Run apps' variables",
};

/** The gcloud command that enables the listed services, for the error's hint. */
function enableCommand(project: string, services: string[]): string {
  return `gcloud services enable ${services.join(" ")} --project ${project}`;
}

/**
 * Returns the required APIs that are not enabled (one batchGet call). A
 * disabled Service Usage API itself cannot be enabled through itself: that
 * case is reported with the console link.
 */
export async function disabledApis(clients: GcpClients, project: string): Promise<string[]> {
  const names = Object.keys(REQUIRED_APIS).map((s) => `projects/${project}/services/${s}`);
  try {
    const res = await clients.serviceusage.services.batchGet({ parent: `projects/${project}`, names });
    const enabled = new Set((res.data.services ?? []).filter((s) => s.state === "ENABLED").map((s) => s.config?.name ?? s.name?.split("/").pop()));
    return Object.keys(REQUIRED_APIS).filter((s) => !enabled.has(s));
  } catch (err) {
    if (disabledService(err)) {
      throw new PilotError(`The Service Usage API is disabled in project ${project}, so Pilot cannot check the others.`, {
        hint: `Enable it: ${enableCommand(project, ["serviceusage.googleapis.com"])} (or in the console's API library).`,
        cause: err,
      });
    }
    throw err;
  }
}

/** Stops with one message naming every disabled API, or enables them when the user asked (--enable-apis). */
export async function ensureApis(env: GcpKindEnv, opts: { enable: boolean; progress: (m: string) => void }): Promise<string[]> {
  const { clients, project } = env;
  const missing = await disabledApis(clients, project);
  if (missing.length === 0) return [];
  if (!opts.enable) {
    throw new PilotError(
      `${missing.length === 1 ? "An API Pilot needs is" : `${missing.length} APIs Pilot needs are`} not enabled in project ${project}: ${missing
        .map((s) => `${s} (${REQUIRED_APIS[s]})`)
        .join(", ")}.`,
      { hint: `Run again with --enable-apis to enable them, or: ${enableCommand(project, missing)}` },
    );
  }
  opts.progress(`enabling ${missing.join(", ")}`);
  const op = (await clients.serviceusage.services.batchEnable({ parent: `projects/${project}`, requestBody: { serviceIds: missing } })).data;
  await waitLro(env, op, async (name) => (await clients.serviceusage.operations.get({ name })).data, {
    what: `enable ${missing.join(", ")}`,
    progress: opts.progress,
    timeoutMs: 10 * 60_000,
  });
  return missing;
}

/**
 * The Google API clients one GCP provider uses, created once and shared by
 * every resource kind. Each API is imported on its own from `googleapis`
 * (its per-API module, not the package index): all seven load in about
 * 0.25 s and 70 MB, where `@google-cloud/compute` alone takes 2.3 s and
 * 177 MB and the `googleapis` index 1.6 s (BENCHMARKS.md). They send plain
 * JSON as Google's discovery documents define it, which is also what the
 * test suite's fake checks requests against.
 */
// This module is loaded only on the GCP path (src/providers/index.ts imports the provider lazily).
import { GoogleAuth } from "google-auth-library";
import { cloudresourcemanager_v1 } from "googleapis/build/src/apis/cloudresourcemanager/v1.js";
import { compute_v1 } from "googleapis/build/src/apis/compute/v1.js";
import { iam_v1 } from "googleapis/build/src/apis/iam/v1.js";
import { servicenetworking_v1 } from "googleapis/build/src/apis/servicenetworking/v1.js";
import { serviceusage_v1 } from "googleapis/build/src/apis/serviceusage/v1.js";
import { sqladmin_v1 } from "googleapis/build/src/apis/sqladmin/v1.js";
import { vpcaccess_v1 } from "googleapis/build/src/apis/vpcaccess/v1.js";
import { allLoopback, gcpEndpoints, type GcpEndpoints } from "./endpoints.js";

/** One client per API. */
export interface GcpClients {
  compute: compute_v1.Compute;
  sql: sqladmin_v1.Sqladmin;
  networking: servicenetworking_v1.Servicenetworking;
  vpcaccess: vpcaccess_v1.Vpcaccess;
  iam: iam_v1.Iam;
  crm: cloudresourcemanager_v1.Cloudresourcemanager;
  serviceusage: serviceusage_v1.Serviceusage;
  /** Application Default Credentials, or undefined when every endpoint is a local test server. */
  auth?: GoogleAuth;
  endpoints: GcpEndpoints;
}

export const CLOUD_PLATFORM_SCOPE = "https://www.googleapis.com/auth/cloud-platform";

/**
 * One retry rule for every call (terraform-provider-google has one too):
 * 429 and 5xx, with exponential backoff, for every method. POST is safe to
 * repeat here: Compute inserts carry a requestId, and every other create
 * answers a repeat with "already exists", which the kinds adopt after
 * checking ownership.
 */
export const RETRY = {
  retry: 5,
  httpMethodsToRetry: ["GET", "HEAD", "PUT", "OPTIONS", "DELETE", "POST", "PATCH"],
  statusCodesToRetry: [
    [429, 429],
    [500, 599],
  ],
};

/**
 * What every Google client of Pilot's is made with: the endpoints, the
 * credentials (none when every endpoint is a local test server) and, per
 * API, its options (the endpoint's root URL, if any, and the one retry rule).
 */
export function clientSetup(env: NodeJS.ProcessEnv) {
  const endpoints = gcpEndpoints(env);
  const auth = allLoopback(endpoints) ? undefined : new GoogleAuth({ scopes: [CLOUD_PLATFORM_SCOPE] });
  const opts = (rootUrl: string | undefined) => ({ ...(rootUrl ? { rootUrl } : {}), ...(auth ? { auth } : {}), retryConfig: RETRY });
  return { endpoints, auth, opts };
}

/**
 * Creates the clients. Credentials are Application Default Credentials
 * (`gcloud auth application-default login`, GOOGLE_APPLICATION_CREDENTIALS,
 * or the metadata server), except when every endpoint is on loopback.
 */
export function createGcpClients(env: NodeJS.ProcessEnv): GcpClients {
  const { endpoints, auth, opts } = clientSetup(env);
  return {
    compute: new compute_v1.Compute(opts(endpoints.compute)),
    sql: new sqladmin_v1.Sqladmin(opts(endpoints.sqladmin)),
    networking: new servicenetworking_v1.Servicenetworking(opts(endpoints.servicenetworking)),
    vpcaccess: new vpcaccess_v1.Vpcaccess(opts(endpoints.vpcaccess)),
    iam: new iam_v1.Iam(opts(endpoints.iam)),
    crm: new cloudresourcemanager_v1.Cloudresourcemanager(opts(endpoints.cloudresourcemanager)),
    serviceusage: new serviceusage_v1.Serviceusage(opts(endpoints.serviceusage)),
    auth,
    endpoints,
  };
}

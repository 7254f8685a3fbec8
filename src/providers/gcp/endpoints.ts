/**
 * Where each Google API is reached. In production: Google's own hosts. For
 * testing and development, gcloud's per-API override variables
 * (`CLOUDSDK_API_ENDPOINT_OVERRIDES_COMPUTE=...`) and `PILOT_GCP_ENDPOINT`, a
 * catch-all base URL for every API at once (the test suite's fake serves
 * them all on one port). Only when every endpoint in use is on loopback may
 * Pilot skip real credentials.
 */

/** The APIs the GCP provider calls, by the name gcloud's override variables use. */
// artifactregistry: the apps' image repository (src/providers/gcp/artifact-registry.ts), made by `pilot new app`;
// run and secretmanager: Pilot's own release of a Cloud Run app (src/providers/gcp/cloud-run-release.ts), by `pilot up`.
export const GCP_APIS = ["compute", "sqladmin", "servicenetworking", "vpcaccess", "iam", "cloudresourcemanager", "serviceusage", "artifactregistry", "run", "secretmanager"] as const;
export type GcpApi = (typeof GCP_APIS)[number];

/** Root URL per API (googleapis' `rootUrl`, ending in "/"), or undefined for Google's default host. */
export type GcpEndpoints = Record<GcpApi, string | undefined>;

/**
 * gcloud's override values may carry the API's version path
 * (`https://compute.googleapis.com/compute/v1/`); googleapis adds its own,
 * so only the origin is kept (googleapis drops a rootUrl's path anyway).
 */
function rootOf(url: string, variable: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`${variable}="${url}" is not a URL.`);
  }
  if (parsed.protocol !== "https:" && !(parsed.protocol === "http:" && isLoopbackHost(parsed.hostname))) {
    // Plain HTTP would send credentials in the clear; only a local test server may use it.
    throw new Error(`${variable} must be an https:// URL (plain http only on loopback).`);
  }
  return `${parsed.origin}/`;
}

/** Reads the override variables; each API's own variable wins over PILOT_GCP_ENDPOINT. */
export function gcpEndpoints(env: NodeJS.ProcessEnv): GcpEndpoints {
  const all = env.PILOT_GCP_ENDPOINT ? rootOf(env.PILOT_GCP_ENDPOINT, "PILOT_GCP_ENDPOINT") : undefined;
  const out = {} as GcpEndpoints;
  for (const api of GCP_APIS) {
    const variable = `CLOUDSDK_API_ENDPOINT_OVERRIDES_${api.toUpperCase()}`;
    const own = env[variable];
    out[api] = own ? rootOf(own, variable) : all;
  }
  return out;
}

/** 127.0.0.0/8, ::1 and "localhost". */
export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.replace(/^\[(.*)\]$/, "$1").toLowerCase();
  return h === "localhost" || h === "::1" || /^127\.\d+\.\d+\.\d+$/.test(h);
}

/** True when every API is pointed at loopback: the only case in which no credentials are used. */
export function allLoopback(endpoints: GcpEndpoints): boolean {
  return GCP_APIS.every((api) => {
    const url = endpoints[api];
    return url !== undefined && isLoopbackHost(new URL(url).hostname);
  });
}

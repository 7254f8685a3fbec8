/**
 * How long operations take. Tests want small delays (default 50 ms, so
 * "RUNNING, then DONE" is observable without slowing anything down); a
 * benchmark wants delays proportional to Google's real ones, so the relative
 * cost of a slow Cloud SQL create versus a quick firewall is preserved.
 *
 * A delay is looked up by method id (`compute.networks.insert`), then by kind
 * (`compute.networks`, `sqladmin.instances`), then by API (`sqladmin`), then
 * the default. `realScale` fills the kind table with REAL_LATENCY_MS × scale.
 */

/** Typical times of the real operations, in ms (what the GCP console shows for a small project). */
export const REAL_LATENCY_MS: Readonly<Record<string, number>> = {
  "compute.networks": 10_000,
  "compute.subnetworks": 10_000,
  "compute.firewalls": 5_000,
  "compute.addresses": 3_000,
  "compute.globalAddresses": 3_000,
  "compute.instances": 20_000,
  "compute.disks": 3_000,
  "servicenetworking.connections": 60_000,
  "sqladmin.instances": 750_000,
  "sqladmin.databases": 5_000,
  "sqladmin.users": 3_000,
  "vpcaccess.connectors": 120_000,
  "iam.serviceAccounts": 1_000,
  "serviceusage.services": 10_000,
  "artifactregistry.repositories": 5_000,
  // A Cloud Run revision starting (image pulled, container listening).
  "run.revisions": 15_000,
};

export interface LatencySettings {
  /** Delay of every operation without a more specific entry. */
  defaultMs: number;
  /** By method id, kind (`api.collection`) or API. */
  overrides: Record<string, number>;
  /** Added to every API request before it is answered (not to /__fake). */
  requestMs: number;
}

export interface LatencyOptions {
  latencyMs?: number;
  latency?: Record<string, number>;
  realLatencyScale?: number;
  requestLatencyMs?: number;
}

export const DEFAULT_OPERATION_MS = 50;

export function latencySettings(opts: LatencyOptions): LatencySettings {
  const overrides: Record<string, number> = {};
  if (opts.realLatencyScale !== undefined) {
    for (const [k, v] of Object.entries(REAL_LATENCY_MS)) overrides[k] = Math.round(v * opts.realLatencyScale);
  }
  Object.assign(overrides, opts.latency ?? {});
  return {
    defaultMs: opts.latencyMs ?? (opts.realLatencyScale !== undefined ? Math.round(5_000 * opts.realLatencyScale) : DEFAULT_OPERATION_MS),
    overrides,
    requestMs: opts.requestLatencyMs ?? 0,
  };
}

/** The delay for an operation of `kind` (e.g. "compute.networks") started by `methodId`. */
export function operationDelay(s: LatencySettings, methodId: string, kind: string): number {
  const api = kind.split(".")[0];
  for (const key of [methodId, kind, api]) {
    const v = s.overrides[key];
    if (v !== undefined) return v;
  }
  return s.defaultMs;
}

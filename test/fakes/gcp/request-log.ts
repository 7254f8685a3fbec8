/**
 * The request log: every API call with its method id, path, query, status
 * and time, so a test can count calls per resource ("a no-op run reads each
 * resource at most once") or check that a retry happened.
 */
import type { ApiName } from "./discovery.js";

export interface LoggedRequest {
  seq: number;
  /** ISO time the request arrived. */
  time: string;
  httpMethod: string;
  path: string;
  query: Record<string, string | string[]>;
  api?: ApiName;
  /** Discovery method id, e.g. "compute.networks.get" (absent when nothing matched). */
  methodId?: string;
  /**
   * What the call is about: the path after `/compute/v1/` or `/v1/`
   * (e.g. "projects/p/global/networks/n"), for counting calls per resource.
   */
  resource: string;
  status: number;
  /** Canonical error status, when the call failed. */
  error?: string;
  durationMs: number;
  /** Id of the fault that affected it, if any. */
  fault?: number;
}

export class RequestLog {
  private entries: LoggedRequest[] = [];
  private seq = 0;

  add(e: Omit<LoggedRequest, "seq">): void {
    this.entries.push({ seq: ++this.seq, ...e });
  }

  list(filter?: { methodId?: string; api?: ApiName; since?: number }): LoggedRequest[] {
    return this.entries
      .filter((e) => (!filter?.methodId || e.methodId === filter.methodId) && (!filter?.api || e.api === filter.api) && (!filter?.since || e.seq > filter.since))
      .map((e) => ({ ...e }));
  }

  clear(): void {
    this.entries = [];
  }
}

export function resourceOf(path: string): string {
  return path.replace(/^\/compute\/v1\//, "").replace(/^\/v1\//, "");
}

/**
 * Fault injection: make the next N matching calls fail (429
 * RESOURCE_EXHAUSTED, 503 UNAVAILABLE, 409, 403 SERVICE_DISABLED, or any
 * code), wait longer, or succeed but have their operation end in an error.
 * That is how a test proves the provider retries what Google says is
 * retryable and stops on what is not.
 *
 * A fault matches by method id (exact, or with `*` wildcards like
 * `compute.*.insert`), by a path regex, or (in-process only) by a predicate.
 * Faults apply to well-formed calls: routing, the API-enabled check and
 * validation come first, so a fault never hides a 400.
 */
import type { ApiName } from "./discovery.js";
import { GcpError } from "./errors.js";
import { SERVICE_OF_API, disabledError } from "./serviceusage.js";
import type { OperationFailure } from "./types.js";

export interface FaultRequest {
  api: ApiName;
  methodId: string;
  httpMethod: string;
  path: string;
  query: Record<string, string | string[]>;
  body: unknown;
  pathParams: Record<string, string>;
}

export interface FaultSpec {
  /** Method id, `*` wildcards allowed (e.g. "compute.networks.insert", "sql.*"). */
  method?: string;
  /** Regex source matched against the request path. */
  path?: string;
  /** In-process only: any test of the request. */
  match?: (req: FaultRequest) => boolean;
  /** How many matching calls it affects (default 1; Infinity for all). */
  times?: number;
  /** Answer with this error: an HTTP code, or "SERVICE_DISABLED". */
  error?: 400 | 403 | 404 | 409 | 429 | 500 | 503 | "SERVICE_DISABLED" | number;
  /** Message of the error (a sensible one by default). */
  message?: string;
  /** Extra delay before the call is handled (or answered with `error`). */
  delayMs?: number;
  /** Let the call succeed, but its operation ends with this error. */
  failOperation?: Partial<OperationFailure> | true;
}

export interface Fault extends FaultSpec {
  id: number;
  hits: number;
}

function methodMatcher(pattern: string): RegExp {
  return new RegExp(`^${pattern.split("*").map((p) => p.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join("[^]*")}$`);
}

const DEFAULT_MESSAGES: Record<number, string> = {
  429: "Quota exceeded for quota metric 'Queries' and limit 'Queries per minute' of service. Rate Limit Exceeded",
  503: "The service is currently unavailable.",
  409: "The resource already exists",
  500: "Internal error encountered.",
  404: "The resource was not found",
  403: "The caller does not have permission",
  400: "Invalid request.",
};

export class Faults {
  private list: Fault[] = [];
  private nextId = 1;

  add(spec: FaultSpec): number {
    const id = this.nextId++;
    this.list.push({ times: 1, ...spec, id, hits: 0 });
    return id;
  }

  remove(id: number): void {
    this.list = this.list.filter((f) => f.id !== id);
  }

  clear(): void {
    this.list = [];
  }

  /** The active faults (spent ones are dropped). */
  active(): Fault[] {
    return this.list.map((f) => ({ ...f, match: undefined }));
  }

  /** The first fault matching this request (counting the hit), if any. */
  take(req: FaultRequest): Fault | undefined {
    for (const f of this.list) {
      if (f.method && !methodMatcher(f.method).test(req.methodId)) continue;
      if (f.path && !new RegExp(f.path).test(req.path)) continue;
      if (f.match && !f.match(req)) continue;
      f.hits++;
      if (f.hits >= (f.times ?? 1)) this.list = this.list.filter((x) => x !== f);
      return f;
    }
    return undefined;
  }
}

/** The error a fault answers with. */
export function faultError(f: Fault, req: FaultRequest, projectNumber: string): GcpError | undefined {
  if (f.error === undefined) return undefined;
  if (f.error === "SERVICE_DISABLED") return disabledError(SERVICE_OF_API[req.api], projectNumber);
  const code = f.error;
  const message = f.message ?? DEFAULT_MESSAGES[code] ?? `Injected error ${code}.`;
  if (code === 429) return new GcpError(429, message, { reason: "rateLimitExceeded", status: "RESOURCE_EXHAUSTED" });
  if (code === 503) return new GcpError(503, message, { reason: "backendError", status: "UNAVAILABLE" });
  return new GcpError(code, message);
}

/** The operation failure a fault asks for. */
export function faultOperation(f: Fault): OperationFailure | undefined {
  if (!f.failOperation) return undefined;
  const o = f.failOperation === true ? {} : f.failOperation;
  return { code: o.code ?? "INTERNAL_ERROR", message: o.message ?? "Internal error. Please try again or contact Google Support.", httpStatus: o.httpStatus ?? 500 };
}

/**
 * Google's error envelope, one shape for every API:
 * `{"error":{"code","message","errors":[{"message","domain","reason"}],"status","details"?}}`.
 * Handlers throw GcpError; the dispatcher turns it into this body. The same
 * error also renders as a `google.rpc.Status` for long-running operations
 * (`{code: <gRPC code>, message, details}`), since Google reports a failed
 * operation that way.
 */

/** HTTP code → canonical status, as Google's front end maps them. */
const STATUS_BY_HTTP: Record<number, string> = {
  400: "INVALID_ARGUMENT",
  401: "UNAUTHENTICATED",
  403: "PERMISSION_DENIED",
  404: "NOT_FOUND",
  409: "ALREADY_EXISTS",
  412: "FAILED_PRECONDITION",
  429: "RESOURCE_EXHAUSTED",
  500: "INTERNAL",
  501: "UNIMPLEMENTED",
  503: "UNAVAILABLE",
};

/** HTTP code → the `errors[].reason` Google's v1 APIs put there by default. */
const REASON_BY_HTTP: Record<number, string> = {
  400: "invalid",
  401: "required",
  403: "forbidden",
  404: "notFound",
  409: "alreadyExists",
  412: "conditionNotMet",
  429: "rateLimitExceeded",
  500: "backendError",
  501: "notImplemented",
  503: "backendError",
};

/** Canonical status → gRPC code number (google.rpc.Code), for operation errors. */
export const GRPC_CODE: Record<string, number> = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  UNAUTHENTICATED: 16,
};

export interface GcpErrorOptions {
  status?: string;
  reason?: string;
  domain?: string;
  details?: unknown[];
  /** Extra members of `errors[0]` (compute's `location`, `extendedHelp`, ...). */
  errorExtra?: Record<string, unknown>;
}

export class GcpError extends Error {
  override name = "GcpError";
  readonly status: string;
  readonly reason: string;
  readonly domain: string;

  constructor(
    readonly code: number,
    message: string,
    readonly options: GcpErrorOptions = {},
  ) {
    super(message);
    this.status = options.status ?? STATUS_BY_HTTP[code] ?? "UNKNOWN";
    this.reason = options.reason ?? REASON_BY_HTTP[code] ?? "unknown";
    this.domain = options.domain ?? "global";
  }

  /** The HTTP response body. */
  toBody(): { error: Record<string, unknown> } {
    const error: Record<string, unknown> = {
      code: this.code,
      message: this.message,
      errors: [{ message: this.message, domain: this.domain, reason: this.reason, ...this.options.errorExtra }],
      status: this.status,
    };
    if (this.options.details?.length) error.details = this.options.details;
    return { error };
  }

  /** As a google.rpc.Status (long-running operations' `error`). */
  toStatus(): { code: number; message: string; details?: unknown[] } {
    const s: { code: number; message: string; details?: unknown[] } = {
      code: GRPC_CODE[this.status] ?? 2,
      message: this.message,
    };
    if (this.options.details?.length) s.details = this.options.details;
    return s;
  }
}

/** A BadRequest detail naming the offending field, as Google adds to JSON errors. */
export function fieldViolation(field: string, description: string): Record<string, unknown> {
  return {
    "@type": "type.googleapis.com/google.rpc.BadRequest",
    fieldViolations: [{ field, description }],
  };
}

export const invalid = (message: string, field?: string, reason = "invalid"): GcpError =>
  new GcpError(400, message, { reason, details: field ? [fieldViolation(field, message)] : undefined });

export const required = (message: string, field?: string): GcpError => invalid(message, field, "required");

export const notFound = (message: string, reason = "notFound"): GcpError => new GcpError(404, message, { reason });

export const alreadyExists = (message: string, reason = "alreadyExists"): GcpError => new GcpError(409, message, { reason });

/** 400 FAILED_PRECONDITION: the request is well formed but the world is not in the state it needs. */
export const failedPrecondition = (message: string, reason = "failedPrecondition"): GcpError =>
  new GcpError(400, message, { status: "FAILED_PRECONDITION", reason });

/** compute's refusal to delete something another resource still uses. */
export const resourceInUse = (message: string): GcpError =>
  new GcpError(400, message, { reason: "resourceInUseByAnotherResource" });

/** compute's refusal to use a resource whose own operation has not finished. */
export const resourceNotReady = (resourcePath: string): GcpError =>
  new GcpError(400, `The resource '${resourcePath}' is not ready`, { reason: "resourceNotReady" });

export const aborted = (message: string): GcpError => new GcpError(409, message, { status: "ABORTED", reason: "aborted" });

export const conditionNotMet = (message: string): GcpError =>
  new GcpError(412, message, { status: "FAILED_PRECONDITION", reason: "conditionNotMet" });

export const unimplemented = (message: string): GcpError => new GcpError(501, message);

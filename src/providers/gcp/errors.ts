/**
 * How Google's errors are told apart: the HTTP status, the canonical status
 * ("NOT_FOUND", "ALREADY_EXISTS"), the legacy reason ("notFound",
 * "alreadyExists", "resourceInUseByAnotherResource") and ErrorInfo details
 * ("SERVICE_DISABLED"), looking through Pilot's wrappers. A failed
 * long-running operation is turned into the same shape (GcpOperationError).
 */
import { PilotError } from "../../errors.js";

/** What one Google error says about itself. */
export interface GoogleErrorInfo {
  httpStatus?: number;
  status?: string;
  reasons: string[];
  message: string;
  /** ErrorInfo metadata.service of a SERVICE_DISABLED error ("sqladmin.googleapis.com"). */
  disabledService?: string;
}

/** A long-running operation that finished with an error (Compute, Cloud SQL, LRO-style APIs). */
export class GcpOperationError extends Error {
  constructor(
    message: string,
    readonly codes: string[],
  ) {
    super(message);
    this.name = "GcpOperationError";
  }
}

/** The first Google error found in `err` or its causes. */
export function googleError(err: unknown): GoogleErrorInfo | undefined {
  let e: any = err;
  for (let depth = 0; e && depth < 6; depth++) {
    if (e instanceof GcpOperationError) return { reasons: e.codes, message: e.message };
    if (!(e instanceof PilotError)) {
      const body = e.response?.data?.error;
      const httpStatus = typeof e.status === "number" ? e.status : typeof e.response?.status === "number" ? e.response.status : undefined;
      if (body || httpStatus) {
        const reasons: string[] = [];
        for (const x of body?.errors ?? e.errors ?? []) if (typeof x?.reason === "string") reasons.push(x.reason);
        let disabledService: string | undefined;
        for (const d of body?.details ?? []) {
          if (typeof d?.reason === "string") reasons.push(d.reason);
          if (d?.reason === "SERVICE_DISABLED") disabledService = d.metadata?.service;
        }
        return { httpStatus, status: body?.status, reasons, message: body?.message ?? e.message ?? String(e), disabledService };
      }
    }
    e = e.cause;
  }
  return undefined;
}

function has(err: unknown, test: (g: GoogleErrorInfo) => boolean): boolean {
  const g = googleError(err);
  return g !== undefined && test(g);
}

/** 404 / NOT_FOUND: the resource is gone (or not visible yet). */
export function isNotFound(err: unknown): boolean {
  return has(err, (g) => g.httpStatus === 404 || g.status === "NOT_FOUND" || g.reasons.includes("notFound") || g.reasons.includes("RESOURCE_NOT_FOUND"));
}

/** 409 / ALREADY_EXISTS: a create found the name taken. */
export function isAlreadyExists(err: unknown): boolean {
  return has(
    err,
    (g) =>
      g.status === "ALREADY_EXISTS" ||
      g.reasons.includes("alreadyExists") ||
      g.reasons.includes("RESOURCE_ALREADY_EXISTS") ||
      // Cloud SQL and IAM answer a taken name with a bare 409 (Cloud SQL also a busy instance, which is not one).
      (g.httpStatus === 409 && g.status !== "ABORTED" && !isInProgress(g)),
  );
}

/** Still in use, or busy with another operation: worth retrying while tearing down. */
export function isBusy(err: unknown): boolean {
  return has(
    err,
    (g) =>
      g.reasons.includes("resourceInUseByAnotherResource") ||
      g.reasons.includes("RESOURCE_IN_USE_BY_ANOTHER_RESOURCE") ||
      g.reasons.includes("resourceNotReady") ||
      g.reasons.includes("operationInProgress") ||
      g.status === "FAILED_PRECONDITION" ||
      g.status === "ABORTED" ||
      /in use|being used|still using|another operation|in progress/i.test(g.message),
  );
}

/** 409 ABORTED: an IAM policy changed between our read and our write (etag); read again. */
export function isConcurrentChange(err: unknown): boolean {
  return has(err, (g) => g.status === "ABORTED" || (g.httpStatus === 409 && /etag|concurrent/i.test(g.message)));
}

/** The service named in a SERVICE_DISABLED error, if that is what `err` is. */
export function disabledService(err: unknown): string | undefined {
  const g = googleError(err);
  if (!g) return undefined;
  if (g.disabledService) return g.disabledService;
  return g.reasons.includes("SERVICE_DISABLED") || g.reasons.includes("accessNotConfigured") ? "an API this call needs" : undefined;
}

/** 401/403 that is not a disabled API: the credentials are missing, wrong or lack a permission. */
export function isAuthError(err: unknown): boolean {
  return has(err, (g) => (g.httpStatus === 401 || g.httpStatus === 403) && !g.reasons.includes("SERVICE_DISABLED"));
}

function isInProgress(g: GoogleErrorInfo): boolean {
  return g.reasons.includes("operationInProgress") || /another operation (was|is) already in progress/i.test(g.message);
}

/** Cloud SQL runs one operation per instance at a time: "another operation was already in progress". */
export function isOperationInProgress(err: unknown): boolean {
  return has(err, isInProgress);
}

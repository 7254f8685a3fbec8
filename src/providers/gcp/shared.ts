/**
 * Helpers every GCP resource kind shares: labels and the ownership note for
 * kinds that take no labels, derived names, requestIds, and one waiter per
 * operation style (Compute, Cloud SQL, google.longrunning), each surfacing
 * the operation's own error.
 */
import { createHash } from "node:crypto";
import type { ResourceKind, StackTags } from "../../engine/types.js";
import * as scaffold from "../scaffold.js";
import type { PollEnv, WaitCheck, WaitOptions } from "../scaffold.js";
import type { GcpClients } from "./clients.js";
import { GcpOperationError, isNotFound, isOperationInProgress } from "./errors.js";

export { actions, attempt, createOrAdopt, firstOwned, sameSet, setDelta, untilVisible } from "../scaffold.js";

/** What each kind is built with: the shared clients, where the stack lives, and wait tuning for tests. */
export interface GcpKindEnv extends PollEnv {
  clients: GcpClients;
  project: string;
  region: string;
  zone: string;
  /** The project's number (Service Networking addresses networks by it); looked up once. */
  projectNumber(): Promise<string>;
}

export const LABEL_STACK = "pilot-stack";
export const LABEL_STACK_ID = "pilot-stack-id";
export const LABEL_KEY = "pilot-key";

/** The three stack labels (stack names, uuids and node keys are all valid label values). */
export function stackLabels(tags: StackTags): Record<string, string> {
  return { [LABEL_STACK]: tags.stack, [LABEL_STACK_ID]: tags.stackId, [LABEL_KEY]: tags.key };
}

/** True when labels carry this node's stack, lineage and key. */
export function hasStackLabels(labels: Record<string, string> | null | undefined, tags: StackTags): boolean {
  return labels?.[LABEL_STACK] === tags.stack && labels?.[LABEL_STACK_ID] === tags.stackId && labels?.[LABEL_KEY] === tags.key;
}

/**
 * Networks, subnetworks, firewall rules and service accounts take no labels,
 * so their description carries the same three facts; "already exists" is
 * adoption only when it names this stack's lineage.
 */
export function ownershipNote(what: string, tags: StackTags): string {
  return `${what} (${LABEL_STACK}=${tags.stack} ${LABEL_STACK_ID}=${tags.stackId} ${LABEL_KEY}=${tags.key})`;
}

/** The labels an ownership note carries, or undefined when the description has none. */
export function parseOwnershipNote(description: string | null | undefined): Record<string, string> | undefined {
  if (!description) return undefined;
  const out: Record<string, string> = {};
  for (const m of description.matchAll(/\b(pilot-stack|pilot-stack-id|pilot-key)=([a-z0-9_-]+)/g)) out[m[1]!] = m[2]!;
  return out[LABEL_STACK] ? out : undefined;
}

/** True when a description's ownership note names this node of this lineage. */
export function noteIsOurs(description: string | null | undefined, tags: StackTags): boolean {
  return hasStackLabels(parseOwnershipNote(description), tags);
}

/**
 * "pilot-<stack>-<lineage8>-<suffix>": unique per stack lineage, found again by
 * name after a crash (for kinds without labels), and by the "pilot-<stack>-"
 * prefix when looking for orphans. At most 6+20+1+8+1+suffix characters.
 */
export function stackName(tags: Pick<StackTags, "stack" | "stackId">, suffix: string): string {
  return `pilot-${tags.stack}-${tags.stackId.slice(0, 8)}-${suffix}`;
}

/**
 * Compute wants a UUID as requestId. The node's token is stable across
 * retries and crashes, so a UUID derived from it is too: a retried insert is
 * the same request, and Compute never makes a second resource for it.
 */
export function requestIdOf(token: string): string {
  const h = createHash("sha256").update(token).digest("hex");
  // Version 4 and RFC 4122 variant bits, so strict validators accept it.
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${((parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/**
 * The Docker host of a region's Artifact Registry: what the stack's images
 * are pushed to, and what the runner's credential helper answers for.
 */
export function artifactRegistryHost(region: string): string {
  return `${region}-docker.pkg.dev`;
}

/** The last path segment of a Google resource URL ("…/zones/europe-west1-b" → "europe-west1-b"). */
export function lastSegment(url: string | null | undefined): string {
  return String(url ?? "").split("/").pop() ?? "";
}

/** The shared poller, saying that Google may still finish what timed out. */
export function waitFor<T>(env: PollEnv, opts: WaitOptions, check: () => Promise<WaitCheck<T>>): Promise<T | undefined> {
  return scaffold.waitFor(env, { cloud: "Google Cloud", initialIntervalMs: 250, ...opts }, check);
}

/** Runs `fn`; Google's not-found yields undefined (read) or is swallowed (delete). */
export function orGone<T>(fn: () => Promise<T>): Promise<T | undefined> {
  return scaffold.orGone(isNotFound, fn);
}

/** The parts of a Compute operation the waiter needs. */
export interface ComputeOperation {
  name?: string | null;
  status?: string | null;
  zone?: string | null;
  region?: string | null;
  targetId?: string | null;
  error?: { errors?: { code?: string | null; message?: string | null }[] | null } | null;
}

function operationFailure(what: string, errors: { code?: string | null; message?: string | null }[]): GcpOperationError {
  const text = errors.map((e) => `${e.code ?? "ERROR"}: ${e.message ?? ""}`.trim()).join("; ");
  return new GcpOperationError(`${what} failed: ${text}`, errors.map((e) => String(e.code ?? "")));
}

/**
 * Waits for a Compute operation to be DONE by polling its zone, region or
 * global operation (the client's own "done" flag cannot be trusted), and
 * throws its error.errors[] as a GcpOperationError.
 */
export async function waitComputeOp(
  env: GcpKindEnv,
  op: ComputeOperation,
  opts: { what: string; progress?: (m: string) => void; timeoutMs?: number; intervalMs?: number },
): Promise<ComputeOperation> {
  const { compute } = env.clients;
  const get = async (): Promise<ComputeOperation> => {
    const operation = op.name!;
    if (op.zone) return (await compute.zoneOperations.get({ project: env.project, zone: lastSegment(op.zone), operation })).data;
    if (op.region) return (await compute.regionOperations.get({ project: env.project, region: lastSegment(op.region), operation })).data;
    return (await compute.globalOperations.get({ project: env.project, operation })).data;
  };
  let current = op;
  const done = await waitFor(
    env,
    { what: opts.what, intervalMs: opts.intervalMs ?? 2_000, timeoutMs: opts.timeoutMs ?? 10 * 60_000, progress: opts.progress },
    async () => {
      if (current.status !== "DONE") current = await get();
      return { done: current.status === "DONE", status: (current.status ?? "PENDING").toLowerCase(), value: current };
    },
  );
  const errors = done?.error?.errors ?? [];
  if (errors.length > 0) throw operationFailure(opts.what, errors);
  return done!;
}

/** The parts of a Cloud SQL operation the waiter needs. */
export interface SqlOperation {
  name?: string | null;
  status?: string | null;
  error?: { errors?: { code?: string | null; message?: string | null }[] | null } | null;
}

/**
 * Waits for a Cloud SQL operation; `status` may replace the operation's own
 * status in the progress line (the instance's state says more than RUNNING).
 */
export async function waitSqlOp(
  env: GcpKindEnv,
  op: SqlOperation,
  opts: { what: string; progress?: (m: string) => void; timeoutMs?: number; intervalMs?: number; status?: () => Promise<string | undefined> },
): Promise<void> {
  let current = op;
  const done = await waitFor(
    env,
    { what: opts.what, intervalMs: opts.intervalMs ?? 2_000, timeoutMs: opts.timeoutMs ?? 10 * 60_000, progress: opts.progress },
    async () => {
      if (current.status !== "DONE") current = (await env.clients.sql.operations.get({ project: env.project, operation: current.name! })).data;
      const shown = current.status === "DONE" ? "done" : ((await opts.status?.()) ?? (current.status ?? "PENDING").toLowerCase());
      return { done: current.status === "DONE", status: shown, value: current };
    },
  );
  const errors = done?.error?.errors ?? [];
  if (errors.length > 0) throw operationFailure(opts.what, errors);
}

/** A google.longrunning.Operation (Service Networking, VPC Access, Service Usage). */
export interface LongRunningOperation {
  name?: string | null;
  done?: boolean | null;
  error?: { code?: number | null; message?: string | null } | null;
  response?: Record<string, unknown> | null;
}

/** Waits for a long-running operation by polling `get(name)`; throws its error. */
export async function waitLro(
  env: GcpKindEnv,
  op: LongRunningOperation,
  get: (name: string) => Promise<LongRunningOperation>,
  opts: { what: string; progress?: (m: string) => void; timeoutMs?: number; intervalMs?: number },
): Promise<LongRunningOperation> {
  let current = op;
  const done = await waitFor(
    env,
    { what: opts.what, intervalMs: opts.intervalMs ?? 2_000, timeoutMs: opts.timeoutMs ?? 10 * 60_000, progress: opts.progress },
    async () => {
      if (!current.done) current = await get(current.name!);
      return { done: Boolean(current.done), status: current.done ? "done" : "running", value: current };
    },
  );
  if (done?.error) throw new GcpOperationError(`${opts.what} failed: ${done.error.message ?? `code ${done.error.code}`}`, [String(done.error.code ?? "")]);
  return done!;
}

/**
 * Cloud SQL refuses a second operation on an instance while one runs (its own
 * backups and maintenance included): retry such a call with backoff for up
 * to `timeoutMs`, reporting the wait; any other error propagates at once.
 */
export async function whenInstanceIdle<T>(env: PollEnv, fn: () => Promise<T>, progress?: (m: string) => void, timeoutMs = 15 * 60_000): Promise<T> {
  const now = env.now ?? Date.now;
  const start = now();
  let delay = 1_000;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (!isOperationInProgress(err) || now() - start >= timeoutMs) throw err;
    }
    progress?.("waiting for another operation on the instance to finish");
    await new Promise((r) => setTimeout(r, delay * (env.pollScale ?? 1)));
    delay = Math.min(delay * 2, 30_000);
  }
}

/**
 * read and find for a kind found again by its derived name (`spec.name`)
 * and owned per its labels or ownership note: read by id with not-found as
 * gone, find by name and then ownership. The id is the resource's name.
 */
export function lookupsByName<Spec extends { name: string }, Raw extends { name?: string | null }, Out>(
  act: (verb: string, name: string) => string,
  get: (name: string) => Promise<Raw | undefined>,
  toOut: (raw: Raw) => Out,
  isOurs: (raw: Raw, tags: StackTags) => boolean,
): Pick<ResourceKind<Spec, Out>, "read" | "find"> {
  return {
    async read(id) {
      const raw = await scaffold.attempt(act("read", id), () => get(id));
      return raw ? toOut(raw) : undefined;
    },
    async find(tags, spec) {
      if (!spec) return undefined; // no name to look up; create() then adopts ours on "already exists"
      const raw = await scaffold.attempt(act("find", tags.key), () => get(spec.name));
      return raw && isOurs(raw, tags) ? { id: raw.name!, out: toOut(raw) } : undefined;
    },
  };
}

/** Deletes through a Compute call that answers with an operation and waits for it; already gone is success. */
export async function deleteByOperation(
  env: GcpKindEnv,
  action: string,
  what: string,
  remove: () => Promise<{ data: ComputeOperation }>,
  progress: (m: string) => void,
): Promise<void> {
  await scaffold.attempt(action, async () => {
    const op = await orGone(async () => (await remove()).data);
    if (op) await waitComputeOp(env, op, { what, progress });
  });
}

/**
 * What every resource kind of every cloud does around its own API calls
 * (DESIGN.md "Resources and the engine"): read by id with not-found meaning
 * gone, find by tags taking the first match, adopt on "already exists" after
 * checking ownership, wait until a new resource is visible and usable, and
 * compare sets. Provider-neutral: each provider says which of its errors mean
 * "not found" and "already exists"; each kind's file keeps its cloud calls.
 */
import { PilotError, wrapError } from "../errors.js";

/** Wait tuning shared by every kind: tests scale polls to 0 and pin the clock. */
export interface PollEnv {
  /** Multiplies every poll interval; tests set 0 so waits against local servers do not sleep. */
  pollScale?: number;
  /** Clock for elapsed times and timeouts (tests pin it). */
  now?: () => number;
}

/** Runs one cloud step and wraps any failure with the action and resource, giget style. */
export async function attempt<T>(action: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw wrapError(action, err);
  }
}

/** `create gcp.sql.instance "db" in europe-west1` */
export function describeAction(verb: string, type: string, name: string, where: string): string {
  return `${verb} ${type} "${name}" in ${where}`;
}

/** Binds describeAction to one kind and place: `act("create", "db")`. */
export function actions(type: string, where: string): (verb: string, name: string) => string {
  return (verb, name) => describeAction(verb, type, name, where);
}

/** "3m05s": elapsed time for progress lines. */
export function formatElapsed(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  const m = Math.floor(s / 60);
  return m > 0 ? `${m}m${String(s % 60).padStart(2, "0")}s` : `${s}s`;
}

/**
 * Read by id: `fn`'s not-found error (as `isGone` tells it) means the resource
 * is gone and yields undefined; a delete uses the same to treat "already
 * gone" as success. Any other error propagates.
 */
export async function orGone<T>(isGone: (err: unknown) => boolean, fn: () => Promise<T>): Promise<T | undefined> {
  try {
    return await fn();
  } catch (err) {
    if (isGone(err)) return undefined;
    throw err;
  }
}

/** Find by tags: the first listed resource that is ours (a filter call may still return strangers). */
export function firstOwned<T>(items: readonly T[] | undefined, isOurs: (item: T) => boolean = () => true): T | undefined {
  return items?.find(isOurs);
}

/** What createOrAdopt needs: the create call, how to spot "already exists", and whose it is. */
export interface CreateOrAdopt<C, E> {
  /** For error messages: `create gcp.compute.network "network" in global`. */
  action: string;
  /** The name the cloud refused as taken, for the message when it is someone else's. */
  name: string;
  create: () => Promise<C>;
  isAlreadyExists: (err: unknown) => boolean;
  /** Reads the existing resource by the same name. */
  existing: () => Promise<E | undefined>;
  /** True when its tags, labels or description say this stack lineage made it. */
  isOurs: (existing: E) => boolean;
  /** What the user can do when the name is taken by something else. */
  hint?: string;
}

/**
 * Creates, or adopts what an interrupted run of ours already made under the
 * same name: "already exists" is adoption only when the resource carries this
 * stack's tags; anyone else's is a clear error and is never touched.
 */
export async function createOrAdopt<C, E>(
  opts: CreateOrAdopt<C, E>,
): Promise<{ created: C; adopted?: undefined } | { created?: undefined; adopted: E }> {
  try {
    return { created: await opts.create() };
  } catch (err) {
    if (!opts.isAlreadyExists(err)) throw wrapError(opts.action, err);
    const existing = await attempt(opts.action, opts.existing);
    if (existing === undefined || !opts.isOurs(existing)) {
      throw new PilotError(`${opts.action}: ${opts.name} already exists and does not belong to this stack.`, {
        hint: opts.hint ?? "Delete or rename it, or use another --name for this stack.",
        cause: err,
      });
    }
    return { adopted: existing };
  }
}

/** One observation of a resource being waited on. */
export interface WaitCheck<T> {
  done: boolean;
  /** The resource's own status ("pending", "PENDING_CREATE"), shown as progress. */
  status: string;
  value?: T;
}

/** How a waiter polls: what it waits for (for the timeout message), how often and for how long. */
export interface WaitOptions {
  what: string;
  intervalMs: number;
  timeoutMs: number;
  progress?: (message: string) => void;
  /** Which cloud may still finish it, for the timeout's hint ("AWS", "Google Cloud"). */
  cloud?: string;
  /**
   * Start polling this often and double up to `intervalMs`: most operations
   * finish in seconds, a few take minutes, and a fixed long interval would
   * make every quick one wait a whole interval.
   */
  initialIntervalMs?: number;
}

/** A wait that gave up: a PilotError callers can tell from the cloud's own failures. */
export class WaitTimeout extends PilotError {}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Polls `check` until it reports done, reporting "status (elapsed)" after each
 * poll so a long wait (RDS, Cloud SQL: many minutes) shows its state instead
 * of hanging. A timeout is a PilotError that says the resource may still
 * finish, because re-running picks up the same resource from state.
 */
export async function waitFor<T>(env: PollEnv, opts: WaitOptions, check: () => Promise<WaitCheck<T>>): Promise<T | undefined> {
  const now = env.now ?? Date.now;
  const start = now();
  const scale = env.pollScale ?? 1;
  let interval = Math.min(opts.initialIntervalMs ?? opts.intervalMs, opts.intervalMs);
  for (;;) {
    const seen = await check();
    const elapsed = now() - start;
    opts.progress?.(`${seen.status} (${formatElapsed(elapsed)})`);
    if (seen.done) return seen.value;
    if (elapsed >= opts.timeoutMs) {
      throw new WaitTimeout(`Timed out after ${formatElapsed(elapsed)} waiting for ${opts.what} (last status: ${seen.status}).`, {
        hint: `${opts.cloud ?? "The cloud"} may still finish it; run the command again to pick it up where it stopped.`,
      });
    }
    await sleep(interval * scale);
    interval = Math.min(interval * 2, opts.intervalMs);
  }
}

/**
 * Just created, not visible yet: clouds are eventually consistent, so a read
 * right after a create may answer not-found. Retries `read` (which yields
 * undefined for not-found) until it sees the resource, for a bounded time.
 */
export async function untilVisible<T>(
  env: PollEnv,
  what: string,
  read: () => Promise<T | undefined>,
  opts: { intervalMs?: number; timeoutMs?: number; cloud?: string } = {},
): Promise<T> {
  const seen = await waitFor(env, { what: `${what} to become visible`, intervalMs: opts.intervalMs ?? 1_000, timeoutMs: opts.timeoutMs ?? 60_000, cloud: opts.cloud }, async () => {
    const value = await read();
    return { done: value !== undefined, status: value === undefined ? "not visible yet" : "visible", value };
  });
  return seen as T;
}

/** How long a not-found right after a create is taken for "not visible yet" before it counts. */
export interface VisibilityOptions {
  /** Between attempts (scaled by PollEnv.pollScale); default 1s. */
  intervalMs?: number;
  /** From the first attempt; default 60s. */
  timeoutMs?: number;
}

/** retryNotFound's options: the bounds, and what to say before each retry. */
export interface RetryNotFoundOptions extends VisibilityOptions {
  /** Called with the not-found error before each retry (a progress line). */
  onRetry?: (err: unknown) => void;
}

/**
 * Just created, not visible yet, for a call that acts on the resource: a write
 * right after the create (attach, associate, authorize) may answer not-found
 * for a few seconds. Retries `fn` while `isNotFound` says its error is that,
 * for a bounded time; after that the last not-found error propagates, so a
 * resource that really is missing still fails with the cloud's own message.
 * Any other error propagates at once. `fn` must be safe to repeat.
 */
export async function retryNotFound<T>(
  env: PollEnv,
  isNotFound: (err: unknown) => boolean,
  fn: () => Promise<T>,
  opts: RetryNotFoundOptions = {},
): Promise<T> {
  const now = env.now ?? Date.now;
  const start = now();
  const interval = (opts.intervalMs ?? 1_000) * (env.pollScale ?? 1);
  const timeout = opts.timeoutMs ?? 60_000;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (!isNotFound(err) || now() - start >= timeout) throw err;
      opts.onRetry?.(err);
    }
    await sleep(interval);
  }
}

/** What set comparison found: what to add, what to remove, and whether nothing differs. */
export interface SetDelta<T> {
  missing: T[];
  extra: T[];
  same: boolean;
}

/** Compares a wanted set with the one the cloud has (order and duplicates ignored). */
export function setDelta<T>(want: readonly T[], have: readonly T[]): SetDelta<T> {
  const haveSet = new Set(have);
  const wantSet = new Set(want);
  const missing = [...wantSet].filter((x) => !haveSet.has(x));
  const extra = [...haveSet].filter((x) => !wantSet.has(x));
  return { missing, extra, same: missing.length === 0 && extra.length === 0 };
}

/** True when two lists hold the same members (order and duplicates ignored). */
export function sameSet<T>(a: readonly T[], b: readonly T[]): boolean {
  return setDelta(a, b).same;
}

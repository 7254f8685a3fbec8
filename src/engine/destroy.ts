import { errorText, wrapError } from "../errors.js";
import type { StateStore } from "../state/store.js";
import { reverseGraph, walk, type WalkResult } from "./graph.js";
import type { Observed } from "./plan.js";
import { specFromState } from "./refresh.js";
import type { EmitFn, ResourceKind, StackNode } from "./types.js";

/** What destroy needs: the store (loaded and locked), the kinds by type, and how to tell a retryable error. */
export interface DestroyOptions {
  store: StateStore;
  stack: string;
  emit: EmitFn;
  kinds: Record<string, ResourceKind>;
  isRetryableDelete: (err: unknown) => boolean;
  concurrency?: number;
  /** Backoff between attempts when a dependency is still attached (ENIs and EIPs linger). */
  retryDelaysMs?: number[];
  /**
   * The stack's graph, when the caller has it: lets find() of an interrupted
   * entry get a spec (kinds found by a deterministic name need one).
   */
  nodes?: StackNode[];
}

/** About ten minutes of patience in total, growing from 2 s to 60 s. */
export const DEFAULT_RETRY_DELAYS_MS = [2_000, 4_000, 8_000, 15_000, 30_000, 60_000, 60_000, 60_000, 60_000, 60_000, 60_000, 60_000, 60_000];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Deletes the given state entries in reverse dependency order (a resource
 * only after everything that depends on it), treating "already gone" as done
 * (each kind's delete does) and retrying errors the provider calls retryable.
 * A write-ahead entry of an interrupted create is first looked up by its tags,
 * so a half-made resource is removed too (interrupted entries are looked up
 * first, in dependency order, so a dependent's spec can use what its
 * dependency's look-up found). Each entry leaves state as soon as its
 * resource is gone.
 */
export async function destroyEntries(keys: string[], opts: DestroyOptions): Promise<WalkResult> {
  const state = opts.store.current!;
  const wanted = new Set(keys);
  const found = await findInterrupted(keys, opts);
  const graph = reverseGraph(
    keys.map((key) => ({ key, dependsOn: state.resources[key].dependsOn.filter((d) => wanted.has(d)) })),
  );
  const delays = opts.retryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS;

  const visit = async (key: string) => {
    const entry = state.resources[key];
    const kind = opts.kinds[entry.type];
    const tags = { stack: opts.stack, stackId: state.lineage, key };
    const progress = (message: string) => opts.emit({ type: "progress", key, message });
    opts.emit({ type: "start", key, action: "delete" });
    try {
      if (!kind) throw new Error(`this Pilot has no resource kind "${entry.type}"`);
      let id = entry.id;
      let out: unknown = entry.out;
      if (entry.status === "creating") {
        const seen = found[key];
        if (seen instanceof Error) throw seen;
        id = seen?.id;
        out = seen?.out;
      }
      if (id !== undefined) {
        for (let attempt = 0; ; attempt++) {
          try {
            await kind.delete(id, out, { tags, progress });
            break;
          } catch (err) {
            if (attempt >= delays.length || !opts.isRetryableDelete(err)) throw err;
            progress(`waiting: ${errorText(err).slice(0, 120)}`);
            await sleep(delays[attempt]);
          }
        }
      }
      await opts.store.update((s) => {
        delete s.resources[key];
      });
      opts.emit({ type: "done", key, action: "delete", id });
    } catch (err) {
      const wrapped = wrapError(`delete ${entry.type} "${key}"${entry.id ? ` (${entry.id})` : ""}`, err);
      opts.emit({ type: "failed", key, error: wrapped.message });
      throw wrapped;
    }
  };

  return walk(graph, visit, {
    concurrency: opts.concurrency,
    onSkip: (key, upstream) => opts.emit({ type: "skipped", key, reason: `"${upstream}" could not be deleted first` }),
  });
}

/**
 * Looks up every interrupted ("creating") entry among `keys` by its tags, in
 * forward dependency order; a failed look-up is kept as its error, for the
 * delete of that entry to report.
 */
async function findInterrupted(keys: string[], opts: DestroyOptions): Promise<Record<string, { id: string; out: unknown } | undefined | Error>> {
  const state = opts.store.current!;
  const pending = keys.filter((k) => state.resources[k].status === "creating");
  const results: Record<string, { id: string; out: unknown } | undefined | Error> = {};
  if (pending.length === 0) return results;
  const inSet = new Set(pending);
  const byKey = new Map((opts.nodes ?? []).map((n) => [n.key, n]));
  const observed: Record<string, Observed> = {};
  await walk(
    pending.map((key) => ({ key, dependsOn: state.resources[key].dependsOn.filter((d) => inSet.has(d) && d !== key) })),
    async (key) => {
      const entry = state.resources[key];
      const kind = opts.kinds[entry.type];
      if (!kind) return; // reported by the delete visit
      try {
        const hit = await kind.find({ stack: opts.stack, stackId: state.lineage, key }, specFromState(byKey.get(key), state, observed));
        results[key] = hit;
        if (hit) observed[key] = { status: "present", id: hit.id, out: hit.out };
      } catch (err) {
        results[key] = err instanceof Error ? err : new Error(errorText(err));
      }
    },
    { concurrency: opts.concurrency },
  );
  return results;
}

import type { Provider } from "../providers/types.js";
import type { StateStore } from "../state/store.js";
import { apply } from "./apply.js";
import type { WalkResult } from "./graph.js";
import { hasChanges, plan } from "./plan.js";
import { refresh } from "./refresh.js";
import type { EmitFn, PlannedChange } from "./types.js";

/** The outcome of one reconcile: the plan, and what applying it did (absent on --dry-run). */
export interface ReconcileResult {
  changes: PlannedChange[];
  applied?: WalkResult;
}

/**
 * refresh → plan → (unless dry-run) apply, for a loaded and locked store.
 * `beforeApply` gets the plan first and may refuse it (a prompt for replaces).
 */
export async function reconcile(
  provider: Provider<any>,
  settings: Record<string, unknown>,
  store: StateStore,
  opts: {
    stack: string;
    emit: EmitFn;
    dryRun?: boolean;
    concurrency?: number;
    beforeApply?: (changes: PlannedChange[]) => Promise<void>;
  },
): Promise<ReconcileResult> {
  const state = store.current!;
  const nodes = provider.graph(settings, state);
  const kinds = provider.kinds(settings);
  const observed = await refresh(nodes, state, kinds, { stack: opts.stack, emit: opts.emit, concurrency: opts.concurrency });
  const changes = plan({ nodes, resources: state.resources, observed });
  opts.emit({ type: "plan", changes });
  if (opts.dryRun) return { changes };
  await opts.beforeApply?.(changes);
  const applied = await apply(nodes, changes, observed, {
    store,
    stack: opts.stack,
    emit: opts.emit,
    kinds,
    isRetryableDelete: (e) => provider.isRetryableDelete(e),
    concurrency: opts.concurrency,
  });
  return { changes, applied };
}

export { hasChanges };

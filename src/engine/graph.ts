/** Dependency-graph helpers shared by plan, apply and destroy. */

/** The minimal shape the walker needs. */
export interface GraphNode {
  key: string;
  dependsOn: string[];
}

/**
 * Orders nodes so every node comes after its dependencies (Kahn's algorithm,
 * stable in input order). Throws on an unknown dependency or a cycle: both are
 * programming errors in a provider's graph, not user errors.
 */
export function topoSort<N extends GraphNode>(nodes: N[]): N[] {
  const byKey = new Map(nodes.map((n) => [n.key, n]));
  if (byKey.size !== nodes.length) throw new Error("duplicate node keys in graph");
  for (const n of nodes) {
    for (const d of n.dependsOn) {
      if (!byKey.has(d)) throw new Error(`node "${n.key}" depends on unknown node "${d}"`);
    }
  }
  const done = new Set<string>();
  const order: N[] = [];
  while (order.length < nodes.length) {
    const ready = nodes.filter((n) => !done.has(n.key) && n.dependsOn.every((d) => done.has(d)));
    if (ready.length === 0) {
      const stuck = nodes.filter((n) => !done.has(n.key)).map((n) => n.key);
      throw new Error(`dependency cycle among: ${stuck.join(", ")}`);
    }
    for (const n of ready) {
      done.add(n.key);
      order.push(n);
    }
  }
  return order;
}

/** The same graph with every edge turned around: destroy order. */
export function reverseGraph<N extends GraphNode>(nodes: N[]): GraphNode[] {
  const present = new Set(nodes.map((n) => n.key));
  const dependents = new Map<string, string[]>(nodes.map((n) => [n.key, []]));
  for (const n of nodes) {
    for (const d of n.dependsOn) if (present.has(d)) dependents.get(d)!.push(n.key);
  }
  return nodes.map((n) => ({ key: n.key, dependsOn: dependents.get(n.key)! }));
}

/** Outcome of a walk: which keys finished, failed, or were skipped because something upstream failed. */
export interface WalkResult {
  done: string[];
  failed: { key: string; error: unknown }[];
  skipped: string[];
}

/**
 * Runs `visit` for every node, each as soon as all its dependencies have
 * finished, with at most `concurrency` visits in flight, so the wall time
 * approaches the graph's critical path. A failed node's dependents are not
 * visited: `onSkip` reports them as "upstream failed" instead of repeating the
 * error (Terraform's walk does the same).
 */
export async function walk(
  nodes: GraphNode[],
  visit: (key: string) => Promise<void>,
  opts: { concurrency?: number; onSkip?: (key: string, failedUpstream: string) => void } = {},
): Promise<WalkResult> {
  topoSort(nodes); // validates: unknown deps and cycles throw before anything runs
  const concurrency = Math.max(1, opts.concurrency ?? 10);
  const result: WalkResult = { done: [], failed: [], skipped: [] };
  const state = new Map<string, "pending" | "running" | "done" | "failed" | "skipped">(nodes.map((n) => [n.key, "pending"]));
  const blamed = new Map<string, string>();
  let running = 0;

  return new Promise<WalkResult>((resolve) => {
    const pump = () => {
      // Propagate failures downstream first, so skipped nodes never start.
      let changed = true;
      while (changed) {
        changed = false;
        for (const n of nodes) {
          if (state.get(n.key) !== "pending") continue;
          const bad = n.dependsOn.find((d) => state.get(d) === "failed" || state.get(d) === "skipped");
          if (bad) {
            state.set(n.key, "skipped");
            const root = blamed.get(bad) ?? bad;
            blamed.set(n.key, root);
            result.skipped.push(n.key);
            opts.onSkip?.(n.key, root);
            changed = true;
          }
        }
      }
      for (const n of nodes) {
        if (running >= concurrency) break;
        if (state.get(n.key) !== "pending") continue;
        if (!n.dependsOn.every((d) => state.get(d) === "done")) continue;
        state.set(n.key, "running");
        running++;
        visit(n.key).then(
          () => {
            state.set(n.key, "done");
            result.done.push(n.key);
          },
          (error: unknown) => {
            state.set(n.key, "failed");
            result.failed.push({ key: n.key, error });
          },
        ).finally(() => {
          running--;
          pump();
        });
      }
      if (running === 0 && [...state.values()].every((s) => s !== "pending" && s !== "running")) resolve(result);
    };
    pump();
  });
}

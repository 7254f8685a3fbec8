import { errorText, wrapError } from "../errors.js";
import type { StackState } from "../state/schema.js";
import { walk } from "./graph.js";
import type { Observed } from "./plan.js";
import type { EmitFn, ResourceKind, StackNode } from "./types.js";

/**
 * Reads every recorded resource once (in parallel) and, for write-ahead
 * entries of interrupted creates, looks for the half-made resource by its
 * tags. Reads only; it never writes state, so --dry-run can use it.
 * An interrupted entry is looked up only after its interrupted dependencies,
 * so kinds found by a deterministic name (IAM, DB subnet groups) get a spec
 * built from what was just adopted; recorded entries need no wait.
 */
export async function refresh(
  nodes: StackNode[],
  state: StackState,
  kinds: Record<string, ResourceKind>,
  opts: { stack: string; emit: EmitFn; concurrency?: number },
): Promise<Record<string, Observed>> {
  const observed: Record<string, Observed> = {};
  const byKey = new Map(nodes.map((n) => [n.key, n]));
  const entries = Object.entries(state.resources);
  const interrupted = (key: string) => state.resources[key]?.status === "creating";
  const flat = entries.map(([key, entry]) => ({
    key,
    dependsOn: entry.status === "creating" ? (byKey.get(key)?.dependsOn ?? []).filter((d) => d !== key && interrupted(d)) : [],
  }));
  const result = await walk(
    flat,
    async (key) => {
      const entry = state.resources[key];
      const kind = byKey.get(key)?.kind ?? kinds[entry.type];
      if (!kind) throw new Error(`no resource kind "${entry.type}" in this provider`);
      if (entry.status === "creating") {
        const tags = { stack: opts.stack, stackId: state.lineage, key };
        const found = await kind.find(tags, specFromState(byKey.get(key), state, observed)).catch((err) => {
          throw wrapError(`find ${entry.type} "${key}" by its tags`, err);
        });
        if (found) {
          opts.emit({ type: "log", level: "info", message: `Found ${entry.type} "${key}" (${found.id}) left by an interrupted run; adopting it.` });
          observed[key] = { status: "present", id: found.id, out: found.out, adopted: true };
        } else {
          observed[key] = { status: "interrupted" };
        }
        return;
      }
      const out = await kind.read(entry.id!, entry.out).catch((err) => {
        throw wrapError(`read ${entry.type} "${key}" (${entry.id})`, err);
      });
      observed[key] = out === undefined ? { status: "gone", id: entry.id } : { status: "present", id: entry.id!, out };
    },
    { concurrency: opts.concurrency },
  );
  if (result.failed.length > 0) {
    const first = result.failed[0];
    throw wrapError("refresh", first.error instanceof Error ? first.error : new Error(errorText(first.error)));
  }
  return observed;
}

/**
 * A best-effort spec for find(): built from the dependencies' outputs, as
 * just observed (an adopted dependency) or else as recorded. find() matches on
 * tags; the spec only helps kinds that have no tags and use a deterministic
 * name. Undefined when a dependency has no outputs yet.
 */
export function specFromState(node: StackNode | undefined, state: StackState, observed: Record<string, Observed> = {}): any {
  if (!node) return undefined;
  const deps: Record<string, unknown> = {};
  for (const d of node.dependsOn) {
    const seen = observed[d];
    const out = seen?.status === "present" ? seen.out : state.resources[d]?.out;
    if (out === undefined) return undefined;
    deps[d] = out;
  }
  try {
    return node.spec(deps);
  } catch {
    return undefined;
  }
}

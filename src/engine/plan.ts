import type { ResourceState } from "../state/schema.js";
import { topoSort } from "./graph.js";
import type { DepOutputs, PlannedChange, StackNode } from "./types.js";

/** What refresh learned about one state entry. */
export type Observed =
  | { status: "present"; id: string; out: any; adopted?: boolean }
  | { status: "gone"; id?: string }
  /** A write-ahead record whose create never finished and for which nothing was found. */
  | { status: "interrupted" };

/** Inputs of plan(): desired nodes, recorded state, refreshed reality. */
export interface PlanInput {
  nodes: StackNode[];
  resources: Record<string, ResourceState>;
  observed: Record<string, Observed>;
}

/** Builds a dependency's outputs map from what is known now; undefined if any is unknown. */
export function knownDepOutputs(node: StackNode, outputs: Record<string, any>): DepOutputs | undefined {
  const deps: DepOutputs = {};
  for (const d of node.dependsOn) {
    if (outputs[d] === undefined) return undefined;
    deps[d] = outputs[d];
  }
  return deps;
}

/**
 * The plan: a pure function of (desired graph, state, refreshed reality).
 * Nodes come in dependency order, then deletions of state entries the graph no
 * longer has. A node whose dependencies are all kept is diffed now; one
 * downstream of a re-created dependency is diffed again at apply time, when its
 * dependencies' new outputs are known.
 */
export function plan(input: PlanInput): PlannedChange[] {
  const changes: PlannedChange[] = [];
  const actions = new Map<string, PlannedChange["action"]>();
  const outputs: Record<string, any> = {};
  for (const node of topoSort(input.nodes)) {
    const entry = input.resources[node.key];
    const seen = input.observed[node.key];
    const change = decide(node, entry, seen, actions, outputs);
    actions.set(node.key, change.action);
    if (seen?.status === "present" && change.action !== "replace") outputs[node.key] = seen.out;
    changes.push(change);
  }
  const wanted = new Set(input.nodes.map((n) => n.key));
  for (const [key, entry] of Object.entries(input.resources)) {
    if (wanted.has(key)) continue;
    changes.push({ key, type: entry.type, action: "delete", reason: "no longer part of the stack", id: entry.id });
  }
  return changes;
}

function decide(
  node: StackNode,
  entry: ResourceState | undefined,
  seen: Observed | undefined,
  actions: Map<string, PlannedChange["action"]>,
  outputs: Record<string, any>,
): PlannedChange {
  const base = { key: node.key, type: node.kind.type };
  if (!entry || !seen) return { ...base, action: "create", reason: "not yet created" };
  if (seen.status === "interrupted") {
    return { ...base, action: "create", reason: "an earlier create was interrupted and nothing was found to adopt" };
  }
  if (seen.status === "gone") return { ...base, action: "create", reason: "deleted outside Pilot", id: seen.id };

  const replacedDep = node.dependsOn.find((d) => actions.get(d) === "replace");
  if (replacedDep) {
    return { ...base, action: "replace", reason: `depends on "${replacedDep}", which is replaced`, id: seen.id };
  }
  const keptReason = seen.adopted ? "adopted after an interrupted run" : "up to date";
  const deps = knownDepOutputs(node, outputs);
  if (!deps || !node.kind.diff) return { ...base, action: "keep", reason: keptReason, id: seen.id };
  const d = node.kind.diff(node.spec(deps), seen.out);
  if (d.result === "same") return { ...base, action: "keep", reason: keptReason, id: seen.id };
  return { ...base, action: d.result, reason: d.reason ?? "settings changed", id: seen.id, ...(d.disruptive && d.result === "update" ? { disruptive: true } : {}) };
}

/** True when applying the plan would change anything. */
export function hasChanges(changes: PlannedChange[]): boolean {
  return changes.some((c) => c.action !== "keep");
}

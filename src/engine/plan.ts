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

/**
 * What every output of a resource still to be created or replaced reads as
 * while planning (Terraform's "known after apply"), except those its kind
 * knows from the spec (ResourceKind.knownOutputs).
 */
export const UNKNOWN = "(known after apply)";

/** Outputs of a node to be (re)created: the known ones, UNKNOWN for any other field. */
function pendingOutputs(node: StackNode, outputs: Record<string, any>): any {
  let known: Record<string, unknown> = {};
  const deps = knownDepOutputs(node, outputs);
  try {
    if (deps && node.kind.knownOutputs) known = { ...node.kind.knownOutputs(node.spec(deps)) };
  } catch {
    known = {};
  }
  return new Proxy(known, { get: (t, p) => (typeof p !== "string" || p in t ? t[p as string] : UNKNOWN) });
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
 * longer has. A node downstream of a dependency to be (re)created is diffed
 * with that dependency's outputs unknown (UNKNOWN), so it is replaced only when
 * its own spec changes in a field that forces it (an Elastic IP whose server is
 * rebuilt is re-associated, not re-allocated); apply diffs it again with the
 * real outputs before acting.
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
    else outputs[node.key] = pendingOutputs(node, outputs);
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
  const cascade = { ...base, action: "replace" as const, reason: `depends on "${replacedDep}", which is replaced`, id: seen.id };
  const keptReason = seen.adopted ? "adopted after an interrupted run" : "up to date";
  const deps = knownDepOutputs(node, outputs);
  // A kind that cannot diff cannot say whether a replaced dependency leaves it valid: replace it too.
  if (!deps || !node.kind.diff) return replacedDep ? cascade : { ...base, action: "keep", reason: keptReason, id: seen.id };
  let d: ReturnType<NonNullable<StackNode["kind"]["diff"]>>;
  try {
    d = node.kind.diff(node.spec(deps), seen.out);
  } catch (err) {
    // A spec or diff that cannot handle unknown outputs: as cautious as above (apply diffs again with real ones).
    if (replacedDep) return cascade;
    if (node.dependsOn.some((dep) => actions.get(dep) === "create")) return { ...base, action: "keep", reason: keptReason, id: seen.id };
    throw err;
  }
  if (d.result === "same") return { ...base, action: "keep", reason: keptReason, id: seen.id };
  const pending = node.dependsOn.find((dep) => actions.get(dep) === "replace" || actions.get(dep) === "create");
  const after = pending ? ` (once "${pending}" is ${actions.get(pending) === "replace" ? "replaced" : "created"})` : "";
  return { ...base, action: d.result, reason: `${d.reason ?? "settings changed"}${after}`, id: seen.id, ...(d.disruptive && d.result === "update" ? { disruptive: true } : {}) };
}

/** True when applying the plan would change anything. */
export function hasChanges(changes: PlannedChange[]): boolean {
  return changes.some((c) => c.action !== "keep");
}

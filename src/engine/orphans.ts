/**
 * Orphans: resources tagged for a stack that its state does not track (a
 * lost state file, an earlier lineage). Provider-neutral: a provider's
 * findTagged() reports what carries the tags; this decides what state does
 * not know and in what order it can go, and lets destroyEntries delete it.
 */
import type { ResourceState, StackState } from "../state/schema.js";
import { StateStore } from "../state/store.js";
import type { TaggedResource } from "./types.js";

/** A resource that carries the stack's tags but that state does not track, shaped like a state entry. */
export interface Orphan {
  /** `orphan:<type>:<id>`: never a node key, so never mistaken for one. */
  key: string;
  type: string;
  id: string;
  out?: Record<string, unknown>;
  /** The lineage tag it carries (undefined if it has none). */
  lineage?: string;
  /** Keys (of orphans or tracked entries) deleted only after it. */
  dependsOn: string[];
}

/**
 * Which of the tagged resources state does not track, and in what order they
 * can go. Tracked: an id state records, or an object of state's own lineage
 * whose key is an interrupted create (the engine finds that one by its tags).
 * Dependencies come from what each object uses; an edge that would close a
 * cycle (two security groups referring to each other) is left out, and the
 * engine's retries cover that order.
 */
export function orphansOf(found: TaggedResource[], state: StackState | undefined): Orphan[] {
  const resources = state?.resources ?? {};
  const ref = (type: string, id: string) => `${type} ${id}`;
  const keyOf = new Map<string, string>();
  for (const [key, r] of Object.entries(resources)) if (r.id) keyOf.set(ref(r.type, r.id), key);
  const orphans: TaggedResource[] = [];
  for (const f of found) {
    const at = ref(f.type, f.id);
    if (keyOf.has(at)) continue;
    if (state && f.lineage === state.lineage && f.key && resources[f.key]?.status === "creating" && resources[f.key].type === f.type) {
      keyOf.set(at, f.key);
      continue;
    }
    keyOf.set(at, `orphan:${f.type}:${f.id}`);
    orphans.push(f);
  }
  const edges = new Map<string, string[]>();
  const next = (key: string) => edges.get(key) ?? resources[key]?.dependsOn ?? [];
  const reaches = (from: string, to: string): boolean => {
    const seen = new Set<string>();
    const stack = [from];
    while (stack.length) {
      const k = stack.pop()!;
      if (k === to) return true;
      if (seen.has(k)) continue;
      seen.add(k);
      stack.push(...next(k));
    }
    return false;
  };
  return orphans.map((o) => {
    const key = keyOf.get(ref(o.type, o.id))!;
    const dependsOn: string[] = [];
    edges.set(key, dependsOn);
    for (const u of o.uses) {
      const dep = keyOf.get(ref(u.type, u.id));
      if (!dep || dep === key || dependsOn.includes(dep) || reaches(dep, key)) continue;
      dependsOn.push(dep);
    }
    return { key, type: o.type, id: o.id, out: o.out, lineage: o.lineage, dependsOn };
  });
}

/**
 * What destroyEntries works on with --orphans: state plus the orphans as
 * extra entries. The orphans live in memory only (the state file keeps
 * tracking what the stack made; a later run finds what is left by its tags
 * again); a tracked entry's removal is written through to the real store.
 */
export class OrphanOverlay extends StateStore {
  readonly #view: StackState;
  readonly #real: StateStore;

  constructor(real: StateStore, base: StackState, orphans: Orphan[]) {
    super(real.home, real.stack);
    this.#real = real;
    const extra = orphans.map((o): [string, ResourceState] => [o.key, { type: o.type, status: "created", token: "orphan", id: o.id, out: o.out, dependsOn: o.dependsOn }]);
    this.#view = { ...base, resources: { ...base.resources, ...Object.fromEntries(extra) } };
  }

  override get current(): StackState {
    return this.#view;
  }

  override update(change: (state: StackState) => void): Promise<void> {
    change(this.#view);
    if (!this.#real.current) return Promise.resolve(); // no state file: nothing to write
    return this.#real.update((s) => {
      for (const key of Object.keys(s.resources)) if (!(key in this.#view.resources)) delete s.resources[key];
    });
  }
}

import type { Created, ResourceKind, StackTags } from "../../src/engine/types.js";

/** A resource as the in-memory cloud holds it. */
export interface MemoryResource {
  id: string;
  type: string;
  spec: any;
  tags: StackTags;
}

/**
 * An in-memory "cloud" for engine tests and the synthetic benchmark: kinds
 * with real create/read/find/delete semantics over a Map, optional latency,
 * call counting and fault injection.
 */
export class MemoryCloud {
  readonly resources = new Map<string, MemoryResource>();
  readonly calls: { op: string; type: string; id?: string }[] = [];
  #seq = 0;
  /** Fails the next create of a type with this error (once). */
  failNextCreate = new Map<string, Error>();
  /** Throws after creating (the resource exists, the caller never hears): simulates a crash mid-create. */
  crashAfterCreate = new Set<string>();
  /** Delete errors to throw (consumed one per attempt) by resource type. */
  deleteErrors = new Map<string, Error[]>();

  kind(type: string, opts: { latencyMs?: number; diffField?: string; updatable?: boolean } = {}): ResourceKind<any, any> {
    const sleep = () => (opts.latencyMs ? new Promise((r) => setTimeout(r, opts.latencyMs)) : Promise.resolve());
    const outOf = (r: MemoryResource) => ({ id: r.id, ...r.spec });
    const kind: ResourceKind<any, any> = {
      type,
      read: async (id) => {
        this.calls.push({ op: "read", type, id });
        const r = this.resources.get(id);
        return r ? outOf(r) : undefined;
      },
      find: async (tags) => {
        this.calls.push({ op: "find", type });
        for (const r of this.resources.values()) {
          if (r.type === type && r.tags.stack === tags.stack && r.tags.stackId === tags.stackId && r.tags.key === tags.key) {
            return { id: r.id, out: outOf(r) } satisfies Created<any>;
          }
        }
        return undefined;
      },
      create: async (spec, ctx) => {
        this.calls.push({ op: "create", type });
        const fault = this.failNextCreate.get(type);
        if (fault) {
          this.failNextCreate.delete(type);
          throw fault;
        }
        ctx.progress("creating");
        await sleep();
        const id = `${type.split(".").pop()}-${++this.#seq}`;
        this.resources.set(id, { id, type, spec, tags: ctx.tags });
        if (this.crashAfterCreate.has(type)) {
          this.crashAfterCreate.delete(type);
          throw new Error("simulated crash after create");
        }
        return { id, out: outOf(this.resources.get(id)!) };
      },
      delete: async (id) => {
        this.calls.push({ op: "delete", type, id });
        const errs = this.deleteErrors.get(type);
        if (errs && errs.length) throw errs.shift()!;
        this.resources.delete(id);
      },
    };
    if (opts.diffField) {
      const field = opts.diffField;
      kind.diff = (spec, out) =>
        spec[field] === out[field] ? { result: "same" } : { result: opts.updatable ? "update" : "replace", reason: `${field} changed` };
    }
    if (opts.updatable) {
      kind.update = async (id, spec) => {
        this.calls.push({ op: "update", type, id });
        const r = this.resources.get(id)!;
        r.spec = spec;
        return outOf(r);
      };
    }
    return kind;
  }

  count(op: string): number {
    return this.calls.filter((c) => c.op === op).length;
  }
}

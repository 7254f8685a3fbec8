/**
 * The write-ahead record of a create (issue 8, point 3): a retried create
 * gets the interrupted one's token and what it settled (remember), and a
 * retired token is replaced on disk before the kind sends anything with the new one.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { apply } from "../../../src/engine/apply.js";
import { plan } from "../../../src/engine/plan.js";
import { refresh } from "../../../src/engine/refresh.js";
import type { CreateContext, EngineEvent, ResourceKind, StackNode } from "../../../src/engine/types.js";
import { StateStore } from "../../../src/state/store.js";
import { tempHome } from "../../support/temp-home.js";

let t: ReturnType<typeof tempHome>;
let store: StateStore;
let events: EngineEvent[];
beforeEach(() => {
  t = tempHome();
  store = new StateStore(t.home, "s");
  store.init("aws", {});
  events = [];
});
afterEach(() => t.cleanup());

/** What the record on disk says right now (a crash at this moment leaves exactly this). */
const onDisk = () => new StateStore(t.home, "s").load()!.resources.vm!;

/** A kind whose create runs `body` with the engine's context; find() never sees anything. */
function kindWith(body: (ctx: CreateContext) => Promise<void>): ResourceKind {
  return {
    type: "t.vm",
    read: async () => ({}),
    find: async () => undefined,
    create: async (_spec, ctx) => {
      await body(ctx);
      return { id: "vm-1", out: {} };
    },
    delete: async () => undefined,
  };
}

async function up(kind: ResourceKind) {
  const nodes: StackNode[] = [{ key: "vm", kind, dependsOn: [], spec: () => ({}) }];
  const observed = await refresh(nodes, store.current!, { [kind.type]: kind }, { stack: "s", emit: (e) => events.push(e) });
  const changes = plan({ nodes, resources: store.current!.resources, observed });
  return apply(nodes, changes, observed, { store, stack: "s", emit: (e) => events.push(e), kinds: { [kind.type]: kind }, isRetryableDelete: () => false });
}

describe("write-ahead record", () => {
  it("a first create: a fresh token, not retried; remember() writes the request ahead", async () => {
    const seen: unknown[] = [];
    await up(
      kindWith(async (ctx) => {
        seen.push(ctx.retried, ctx.request);
        await ctx.remember!({ imageId: "ami-1" });
        seen.push(onDisk().status, onDisk().request, onDisk().token === ctx.token);
      }),
    );
    expect(seen).toEqual([false, undefined, "creating", { imageId: "ami-1" }, true]);
    // Once created, the record is the resource's; the request was only for a retry.
    expect(onDisk()).toMatchObject({ status: "created", id: "vm-1" });
    expect(onDisk().request).toBeUndefined();
  });

  it("an interrupted create is retried with its token and its request; a retired token is replaced on disk first", async () => {
    await store.update((s) => {
      s.resources.vm = { type: "t.vm", status: "creating", token: "tok-old", request: { imageId: "ami-1" }, startedAt: new Date().toISOString(), dependsOn: [] };
    });
    const seen: unknown[] = [];
    const result = await up(
      kindWith(async (ctx) => {
        seen.push(ctx.retried, ctx.token, ctx.request);
        const next = await ctx.retireToken!();
        seen.push(next !== "tok-old", onDisk().token === next, onDisk().status, onDisk().request);
      }),
    );
    expect(result.failed).toEqual([]);
    expect(seen).toEqual([true, "tok-old", { imageId: "ami-1" }, true, true, "creating", { imageId: "ami-1" }]);
    expect(onDisk().token).not.toBe("tok-old");
    expect(events).toContainEqual(expect.objectContaining({ type: "log", message: expect.stringMatching(/Retired the idempotency token of "vm" \(tok-old\)/) }));
  });
});

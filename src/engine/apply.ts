import { wrapError } from "../errors.js";
import { walk, type WalkResult } from "./graph.js";
import { knownDepOutputs, type Observed } from "./plan.js";
import { destroyEntries, type DestroyOptions } from "./destroy.js";
import { newToken } from "./tokens.js";
import type { PlannedChange, StackNode } from "./types.js";

/** Everything apply needs besides the plan: the same as destroy (apply deletes what the graph dropped). */
export type ApplyOptions = DestroyOptions;

/**
 * Carries out a plan: walks the graph in dependency order with bounded
 * parallelism, writing ahead to state before every create and recording ids
 * and outputs right after, then deletes what the graph no longer has.
 */
export async function apply(
  nodes: StackNode[],
  changes: PlannedChange[],
  observed: Record<string, Observed>,
  opts: ApplyOptions,
): Promise<WalkResult> {
  const state = opts.store.current!;
  const byKey = new Map(changes.map((c) => [c.key, c]));
  const outputs: Record<string, any> = {};
  const tagsFor = (key: string) => ({ stack: opts.stack, stackId: state.lineage, key });
  const progress = (key: string) => (message: string) => opts.emit({ type: "progress", key, message });

  const create = async (node: StackNode, deps: Record<string, any>) => {
    const spec = node.spec(deps);
    const prior = state.resources[node.key];
    // Reuse the token (and what it was sent with) of an interrupted create, so a
    // retried call is idempotent even when find() could not see its resource yet;
    // the kind retires it if the cloud answers for something gone or different.
    const retried = prior?.status === "creating";
    let token = retried ? prior.token : newToken(node.key);
    const request = retried ? prior.request : undefined;
    const writeAhead = (req: Record<string, string> | undefined) =>
      opts.store.update((s) => {
        s.resources[node.key] = {
          type: node.kind.type,
          status: "creating",
          token,
          startedAt: new Date().toISOString(),
          ...(req ? { request: req } : {}),
          dependsOn: node.dependsOn,
        };
      });
    let remembered = request;
    await writeAhead(remembered);
    const created = await node.kind.create(spec, {
      token,
      tags: tagsFor(node.key),
      progress: progress(node.key),
      warn: (message) => opts.emit({ type: "log", level: "warn", message: `${node.key}: ${message}` }),
      retried,
      request,
      remember: async (req) => {
        remembered = req;
        await writeAhead(req);
      },
      retireToken: async () => {
        const old = token;
        token = newToken(node.key);
        await writeAhead(remembered);
        opts.emit({ type: "log", level: "info", message: `Retired the idempotency token of "${node.key}" (${old}); starting over with a new one.` });
        return token;
      },
    });
    await record(node, created.id, created.out, token);
    return created;
  };

  const record = (node: StackNode, id: string, out: any, token?: string) =>
    opts.store.update((s) => {
      const prev = s.resources[node.key];
      s.resources[node.key] = {
        type: node.kind.type,
        status: "created",
        token: token ?? prev?.token ?? newToken(node.key),
        id,
        out: out ?? {},
        dependsOn: node.dependsOn,
      };
    });

  const visit = async (key: string) => {
    const node = nodes.find((n) => n.key === key)!;
    const change = byKey.get(key)!;
    const seen = observed[key];
    const deps = knownDepOutputs(node, outputs)!;
    opts.emit({ type: "start", key, action: change.action });
    const where = `${change.action} ${node.kind.type} "${key}"`;
    try {
      let action = change.action;
      let id: string | undefined;
      // A replace planned with a dependency's outputs unknown is diffed again too: they may not matter.
      if (action === "keep" || action === "update" || (action === "replace" && seen?.status === "present" && node.kind.diff)) {
        if (seen?.status !== "present") throw new Error("planned to keep a resource that was not observed");
        id = seen.id;
        let out = seen.out;
        // A dependency may have been re-created since planning: diff again with its real outputs.
        const d = node.kind.diff?.(node.spec(deps), out);
        if (d && d.result === "replace") action = "replace";
        else if (d && d.result === "update") action = "update";
        else if (d && action === "replace") action = "keep";
        if (action === "update") {
          if (!node.kind.update) throw new Error(`${node.kind.type} cannot be updated in place`);
          out = await node.kind.update(seen.id, node.spec(deps), out);
        }
        if (action !== "replace") {
          if (seen.adopted || action === "update" || JSON.stringify(state.resources[key]?.out) !== JSON.stringify(out)) {
            await record(node, seen.id, out);
          }
          outputs[key] = out;
        }
      }
      if (action === "replace") {
        if (seen?.status === "present") {
          await node.kind.delete(seen.id, seen.out, { tags: tagsFor(key), progress: progress(key) });
        }
        const created = await create(node, deps);
        id = created.id;
        outputs[key] = created.out;
      } else if (action === "create") {
        const created = await create(node, deps);
        id = created.id;
        outputs[key] = created.out;
      }
      opts.emit({ type: "done", key, action, id });
    } catch (err) {
      const wrapped = wrapError(where, err);
      opts.emit({ type: "failed", key, error: wrapped.message });
      throw wrapped;
    }
  };

  const result = await walk(nodes, visit, {
    concurrency: opts.concurrency,
    onSkip: (key, upstream) => opts.emit({ type: "skipped", key, reason: `upstream "${upstream}" failed` }),
  });

  const stale = changes.filter((c) => c.action === "delete").map((c) => c.key);
  if (stale.length > 0 && result.failed.length === 0) {
    const removed = await destroyEntries(stale, opts);
    result.done.push(...removed.done);
    result.failed.push(...removed.failed);
    result.skipped.push(...removed.skipped);
  }
  return result;
}

import { describe, expect, it } from "vitest";
import { reverseGraph, topoSort, walk } from "../../../src/engine/graph.js";

const g = (spec: Record<string, string[]>) => Object.entries(spec).map(([key, dependsOn]) => ({ key, dependsOn }));

describe("topoSort", () => {
  it("puts every node after its dependencies", () => {
    const order = topoSort(g({ c: ["b"], b: ["a"], a: [] })).map((n) => n.key);
    expect(order).toEqual(["a", "b", "c"]);
  });
  it("rejects cycles and unknown dependencies", () => {
    expect(() => topoSort(g({ a: ["b"], b: ["a"] }))).toThrow(/cycle among: a, b/);
    expect(() => topoSort(g({ a: ["zz"] }))).toThrow(/unknown node "zz"/);
  });
});

describe("reverseGraph", () => {
  it("turns dependencies into dependents", () => {
    expect(reverseGraph(g({ a: [], b: ["a"], c: ["a", "b"] }))).toEqual(g({ a: ["b", "c"], b: ["c"], c: [] }));
  });
});

describe("walk", () => {
  it("visits a node only after all its dependencies finished", async () => {
    const finished: string[] = [];
    await walk(g({ a: [], b: ["a"], c: ["a"], d: ["b", "c"] }), async (key) => {
      if (key === "d") expect(finished).toEqual(expect.arrayContaining(["b", "c"]));
      if (key === "b" || key === "c") expect(finished).toContain("a");
      await new Promise((r) => setTimeout(r, key === "b" ? 20 : 1));
      finished.push(key);
    });
    expect(finished[finished.length - 1]).toBe("d");
  });

  it("starts independent nodes together but never more than the concurrency bound", async () => {
    let running = 0;
    let peak = 0;
    const nodes = g(Object.fromEntries(Array.from({ length: 8 }, (_, i) => [`n${i}`, []])));
    await walk(
      nodes,
      async () => {
        running++;
        peak = Math.max(peak, running);
        await new Promise((r) => setTimeout(r, 10));
        running--;
      },
      { concurrency: 3 },
    );
    expect(peak).toBe(3);
  });

  it("starts a node as soon as its own dependencies are done, not a whole level later", async () => {
    const started: Record<string, number> = {};
    const t0 = Date.now();
    const delay: Record<string, number> = { slow: 80, fast: 5, afterFast: 5 };
    await walk(g({ slow: [], fast: [], afterFast: ["fast"] }), async (key) => {
      started[key] = Date.now() - t0;
      await new Promise((r) => setTimeout(r, delay[key]));
    });
    expect(started.afterFast).toBeLessThan(60);
  });

  it("skips everything downstream of a failure, blaming the failed node, and still runs the rest", async () => {
    const skipped: [string, string][] = [];
    const visited: string[] = [];
    const result = await walk(
      g({ a: [], b: ["a"], c: ["b"], x: [] }),
      async (key) => {
        visited.push(key);
        if (key === "a") throw new Error("boom");
      },
      { onSkip: (k, up) => skipped.push([k, up]) },
    );
    expect(result.failed.map((f) => f.key)).toEqual(["a"]);
    expect(result.skipped.sort()).toEqual(["b", "c"]);
    expect(skipped).toContainEqual(["c", "a"]);
    expect(visited.sort()).toEqual(["a", "x"]);
  });

  it("finishes at once on an empty graph", async () => {
    expect(await walk([], async () => undefined)).toEqual({ done: [], failed: [], skipped: [] });
  });
});

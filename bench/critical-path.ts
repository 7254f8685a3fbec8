/**
 * Engine walk vs the critical path: a synthetic graph shaped like the AWS
 * stack, each node taking a scaled-down share of its real creation time (an
 * RDS instance about ten times an EC2 instance). The walk should finish within
 * 10% of the longest dependency chain.
 */
import { apply } from "../src/engine/apply.js";
import { plan } from "../src/engine/plan.js";
import type { StackNode } from "../src/engine/types.js";
import { StateStore } from "../src/state/store.js";
import { MemoryCloud } from "../test/support/memory-cloud.js";
import { tempHome } from "../test/support/temp-home.js";

/** Node → [dependencies, scaled milliseconds]. EC2 instance = 100 ms, RDS = 1000 ms. */
const SHAPE: Record<string, [string[], number]> = {
  vpc: [[], 20],
  igw: [["vpc"], 15],
  "subnet-public": [["vpc"], 10],
  "subnet-private-a": [["vpc"], 10],
  "subnet-private-b": [["vpc"], 10],
  "route-table": [["vpc", "igw", "subnet-public"], 15],
  "sg-server": [["vpc"], 15],
  "sg-apps": [["vpc"], 15],
  "sg-db": [["vpc", "sg-server", "sg-apps"], 15],
  "key-pair": [[], 5],
  "iam-role": [[], 20],
  "instance-profile": [["iam-role"], 80],
  instance: [["subnet-public", "sg-server", "key-pair", "instance-profile", "route-table"], 100],
  eip: [["instance"], 15],
  "db-subnet-group": [["subnet-private-a", "subnet-private-b"], 15],
  db: [["db-subnet-group", "sg-db"], 1000],
};

function criticalPath(): number {
  const memo = new Map<string, number>();
  const finish = (k: string): number => {
    if (!memo.has(k)) memo.set(k, SHAPE[k][1] + Math.max(0, ...SHAPE[k][0].map(finish)));
    return memo.get(k)!;
  };
  return Math.max(...Object.keys(SHAPE).map(finish));
}

export async function benchCriticalPath(runs = 5): Promise<{ criticalMs: number; walkMs: number[]; overheadPct: number }> {
  const walkMs: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = tempHome("pilot-bench-");
    try {
      const cloud = new MemoryCloud();
      const nodes: StackNode[] = Object.entries(SHAPE).map(([key, [deps, ms]]) => ({
        key,
        kind: cloud.kind(`bench.${key}`, { latencyMs: ms }),
        dependsOn: deps,
        spec: () => ({ key }),
      }));
      const store = new StateStore(t.home, "bench");
      store.init("aws", {});
      const changes = plan({ nodes, resources: {}, observed: {} });
      const started = performance.now();
      const result = await apply(nodes, changes, {}, { store, stack: "bench", emit: () => {}, kinds: {}, isRetryableDelete: () => false });
      walkMs.push(performance.now() - started);
      if (result.failed.length) throw new Error("synthetic apply failed");
    } finally {
      t.cleanup();
    }
  }
  const criticalMs = criticalPath();
  const median = [...walkMs].sort((a, b) => a - b)[Math.floor(walkMs.length / 2)];
  return { criticalMs, walkMs, overheadPct: ((median - criticalMs) / criticalMs) * 100 };
}

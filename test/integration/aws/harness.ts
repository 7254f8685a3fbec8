/**
 * A test-local stand-in for the engine (the real one is src/engine): builds
 * the AWS provider against moto and walks its graph in dependency order.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { DepOutputs, StackNode, StackTags } from "../../../src/engine/types.js";
import { createAwsClients, destroyAwsClients, type AwsClients } from "../../../src/providers/aws/clients.js";
import { createAwsProvider, type AwsSettings } from "../../../src/providers/aws/provider.js";
import type { Provider, ProviderFlags } from "../../../src/providers/types.js";
import { StateStore } from "../../../src/state/store.js";
import { motoEnv } from "../../support/moto.js";

export interface Harness {
  home: string;
  store: StateStore;
  provider: Provider<AwsSettings>;
  clients: AwsClients;
  settings: AwsSettings;
  progress: Record<string, string[]>;
  tagsOf(key: string): StackTags;
  close(): void;
}

/** Points the SDK at moto for this process; returns a function restoring the old values. */
export function useMoto(url: string): () => void {
  const env = motoEnv(url);
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  return () => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
}

/** A fresh PILOT_HOME, state and provider for stack "it", prepared (SSH key, password). */
export async function makeHarness(flags: ProviderFlags = { allowCidr: ["203.0.113.9/32"] }): Promise<Harness> {
  const home = mkdtempSync(join(tmpdir(), "pilot-aws-it-"));
  const store = new StateStore(home, "it");
  const clients = createAwsClients("us-east-1");
  const provider = createAwsProvider(
    { stack: "it", stackDir: store.dir, env: process.env, emit: () => undefined },
    { clients, pollScale: 0, detectPublicIp: async () => "198.51.100.7" },
  );
  const settings = await provider.resolveSettings({ region: "us-east-1", ...flags }, undefined);
  store.init("aws", settings);
  await store.save();
  await provider.prepare(settings, store);
  const progress: Record<string, string[]> = {};
  return {
    home,
    store,
    provider,
    clients,
    settings,
    progress,
    tagsOf: (key) => ({ stack: "it", stackId: store.current!.lineage, key }),
    close() {
      provider.close?.();
      destroyAwsClients(clients);
      rmSync(home, { recursive: true, force: true });
    },
  };
}

/** Nodes in an order where every node follows its dependencies. */
export function topoOrder(nodes: StackNode[]): StackNode[] {
  const byKey = new Map(nodes.map((n) => [n.key, n]));
  const done = new Set<string>();
  const out: StackNode[] = [];
  const visit = (n: StackNode, path: string[]) => {
    if (done.has(n.key)) return;
    if (path.includes(n.key)) throw new Error(`cycle: ${[...path, n.key].join(" → ")}`);
    for (const d of n.dependsOn) {
      const dep = byKey.get(d);
      if (!dep) throw new Error(`${n.key} depends on unknown node ${d}`);
      visit(dep, [...path, n.key]);
    }
    done.add(n.key);
    out.push(n);
  };
  for (const n of nodes) visit(n, []);
  return out;
}

/** The outputs of a node's dependencies, from state. */
export function depsOf(h: Harness, node: StackNode): DepOutputs {
  const resources = h.store.current!.resources;
  return Object.fromEntries(node.dependsOn.map((d) => [d, resources[d]!.out]));
}

/** Creates one node and records it in state as the engine would. */
export async function createNode(h: Harness, node: StackNode): Promise<{ id: string; out: any }> {
  const token = `tok-${node.key}-${h.store.current!.lineage.slice(0, 8)}`;
  const spec = node.spec(depsOf(h, node));
  const created = await node.kind.create(spec, {
    token,
    tags: h.tagsOf(node.key),
    progress: (m) => (h.progress[node.key] ??= []).push(m),
  });
  await h.store.update((s) => {
    s.resources[node.key] = { type: node.kind.type, status: "created", token, id: created.id, out: created.out as any, dependsOn: node.dependsOn };
  });
  return created;
}

/** Deletes one node (as recorded in state) and drops it from state. */
export async function deleteNode(h: Harness, node: StackNode): Promise<void> {
  const r = h.store.current!.resources[node.key]!;
  await node.kind.delete(r.id!, r.out, { tags: h.tagsOf(node.key), progress: (m) => (h.progress[node.key] ??= []).push(m) });
  await h.store.update((s) => {
    delete s.resources[node.key];
  });
}

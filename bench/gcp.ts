/**
 * The GCP path, against the schema-checked fake (test/fakes/gcp):
 * - import cost: a `pilot up-server --provider gcp` that loads the provider
 *   (every Google client it uses) and stops at a bad flag, beside the same
 *   for AWS: wall time and peak RSS of fresh processes;
 * - a no-op re-run through the real CLI: wall time and the API calls it
 *   makes, by method (target: at most one read per resource besides the
 *   credential and API checks);
 * - the walk against the critical path: the real provider and engine, the
 *   fake's operations taking their real durations scaled down (Cloud SQL
 *   12.5 minutes → 7.5 s at 1/100), polls scaled the same; target within 10%.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { reconcile } from "../src/engine/reconcile.js";
import type { EngineEvent } from "../src/engine/types.js";
import { createGcpProvider } from "../src/providers/gcp/provider.js";
import { StateStore } from "../src/state/store.js";
import { REAL_LATENCY_MS, startFakeGcp } from "../test/fakes/gcp/index.js";
import { benchColdStart } from "./cold-start.js";

const CLI = fileURLToPath(new URL("../dist/cli.js", import.meta.url));
const STACK = "bench";
const REGION = "europe-west1";
const UP = (project: string) => ["up-server", "--name", STACK, "--provider", "gcp", "--project", project, "--region", REGION, "--allow-cidr", "203.0.113.9/32", "--skip-bootstrap", "--json"];
/** The calls every run makes before it reads a resource: the project (credentials) and the API check. */
const CHECKS = ["cloudresourcemanager.projects.get", "serviceusage.services.batchGet"];
const fmt = (n: number) => n.toFixed(0);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function runPilot(args: string[], env: NodeJS.ProcessEnv): Promise<{ ms: number; doc: any }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, CI: "true", ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code) => (code === 0 ? resolve({ ms: performance.now() - started, doc: JSON.parse(stdout) }) : reject(new Error(`pilot exited ${code}:\n${stderr}`))));
  });
}

function importCost(): void {
  const bad = ["--region", "bad!", "--allow-cidr", "203.0.113.9/32"];
  // A usage error after the provider loaded: exit 2 is what benchColdStart must accept here.
  for (const provider of ["aws", "gcp"]) {
    const r = benchColdStart(["up-server", "--provider", provider, ...bad], 7, 2);
    console.log(`gcp: ${provider} provider loaded (up-server stopping at a bad flag): median ${fmt(r.medianMs)} ms (min ${fmt(r.minMs)} ms), peak RSS ${fmt(r.maxRssMb)} MB`);
  }
}

async function noopRerun(runs = 5): Promise<void> {
  const fake = await startFakeGcp();
  const home = mkdtempSync(join(tmpdir(), "pilot-bench-gcp-"));
  const env = { PILOT_GCP_ENDPOINT: fake.url, PILOT_HOME: home };
  try {
    for (const s of ["artifactregistry.googleapis.com", "run.googleapis.com", "secretmanager.googleapis.com"]) fake.control.enableApi(s);
    const first = await runPilot(UP(fake.project), env);
    const createCalls = fake.control.requests().length;
    const resources = Object.keys(JSON.parse(readFileSync(join(home, "stacks", STACK, "state.json"), "utf8")).resources).length;
    const times: number[] = [];
    let counts: Record<string, number> = {};
    for (let i = 0; i < runs; i++) {
      fake.control.clearRequests();
      const r = await runPilot(UP(fake.project), env);
      const changed = (r.doc.plan as { key: string; action: string }[]).filter((c) => c.action !== "keep");
      if (changed.length > 0) throw new Error(`the re-run was not a no-op: ${changed.map((c) => `${c.key}: ${c.action}`).join(", ")}`);
      times.push(r.ms);
      counts = {};
      for (const q of fake.control.requests()) counts[q.methodId ?? q.path] = (counts[q.methodId ?? q.path] ?? 0) + 1;
    }
    const total = Object.values(counts).reduce((a, b) => a + b, 0);
    const reads = total - CHECKS.reduce((n, m) => n + (counts[m] ?? 0), 0);
    const writes = Object.keys(counts).filter((m) => !/\.(get|list|batchGet|getIamPolicy|getGuestAttributes|getFromFamily)$/.test(m));
    console.log(`gcp: create ${fmt(first.ms)} ms (${createCalls} API calls, fake's operations 50 ms); no-op re-run median ${fmt(median(times))} ms (min ${fmt(Math.min(...times))}, max ${fmt(Math.max(...times))}, ${runs} runs), ${resources} resources`);
    console.log(`gcp: API calls per re-run: ${total} (${Object.entries(counts).sort(([a, x], [b, y]) => y - x || a.localeCompare(b)).map(([m, n]) => `${m} ${n}`).join(", ")})`);
    console.log(`gcp: ${(reads / resources).toFixed(2)} reads per resource besides the checks (${reads} for ${resources}; target ≤ 1.00); mutating calls: ${writes.length ? writes.join(", ") : "none"}`);
  } finally {
    await fake.close();
    rmSync(home, { recursive: true, force: true });
  }
}

/** Which of the fake's operation kinds each node waits on (roles: one policy write, no operation). */
const NODE_KIND: Record<string, string | undefined> = {
  network: "compute.networks",
  subnet: "compute.subnetworks",
  "fw-server": "compute.firewalls",
  "address-server": "compute.addresses",
  "db-range": "compute.globalAddresses",
  "db-peering": "servicenetworking.connections",
  db: "sqladmin.instances",
  "db-database": "sqladmin.databases",
  "db-user": "sqladmin.users",
  connector: "vpcaccess.connectors",
  "sa-server": "iam.serviceAccounts",
  "roles-server": undefined,
  "sa-apps": "iam.serviceAccounts",
  server: "compute.instances",
};

async function walk(scale = 0.01): Promise<void> {
  const fake = await startFakeGcp({ realLatencyScale: scale });
  const home = mkdtempSync(join(tmpdir(), "pilot-bench-gcp-walk-"));
  try {
    for (const s of ["artifactregistry.googleapis.com", "run.googleapis.com", "secretmanager.googleapis.com"]) fake.control.enableApi(s);
    const started: Record<string, number> = {};
    const took: Record<string, number> = {};
    const emit = (e: EngineEvent) => {
      if (e.type === "start") started[e.key] = performance.now();
      if (e.type === "done") took[e.key] = performance.now() - started[e.key]!;
      if (e.type === "failed") console.error(`gcp walk: ${e.key} failed: ${e.error}`);
    };
    const stackDir = join(home, "stacks", STACK);
    const provider = createGcpProvider({ stack: STACK, stackDir, env: { PILOT_GCP_ENDPOINT: fake.url }, emit }, { pollScale: scale, detectPublicIp: async () => "203.0.113.9" });
    const settings = await provider.resolveSettings({ project: fake.project, region: REGION }, undefined);
    await provider.checkCredentials(settings);
    const store = new StateStore(home, STACK);
    store.init("gcp", settings);
    await provider.prepare(settings, store);
    const nodes = provider.graph(settings, store.current!);
    const t0 = performance.now();
    const result = await reconcile(provider, settings, store, { stack: STACK, emit });
    const wall = performance.now() - t0;
    if (result.applied!.failed.length > 0) throw new Error("the GCP walk failed");
    // The critical path as the fake's latency profile makes it: the longest chain of operation times.
    const cost = (key: string) => (NODE_KIND[key] ? REAL_LATENCY_MS[NODE_KIND[key]!]! * scale : 0);
    const memo = new Map<string, number>();
    const finish = (key: string): number => {
      if (!memo.has(key)) memo.set(key, cost(key) + Math.max(0, ...nodes.find((n) => n.key === key)!.dependsOn.map(finish)));
      return memo.get(key)!;
    };
    const critical = Math.max(...nodes.map((n) => finish(n.key)));
    const sequential = Object.values(took).reduce((a, b) => a + b, 0);
    console.log(
      `gcp: walk with real latencies × ${scale} (Cloud SQL ${fmt(REAL_LATENCY_MS["sqladmin.instances"]! * scale)} ms): wall ${fmt(wall)} ms, critical path ${fmt(critical)} ms, ` +
        `overhead ${(((wall - critical) / critical) * 100).toFixed(1)}% (target ≤ 10%); the same nodes one after another: ${fmt(sequential)} ms`,
    );
  } finally {
    await fake.close();
    rmSync(home, { recursive: true, force: true });
  }
}

export default async function benchGcp(): Promise<void> {
  importCost();
  await noopRerun();
  await walk();
}

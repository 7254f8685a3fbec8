/**
 * A no-op `pilot up-server` re-run against moto: the real CLI creates the
 * AWS stack once (--skip-bootstrap), then re-runs it five times through a
 * counting proxy (./api-counter.ts). Reports the median wall time and the API
 * calls by action. Target (issue 2): at most one read call per resource on
 * a re-run, besides the credential check (sts:GetCallerIdentity).
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { motoEnv, startMoto } from "../test/support/moto.js";
import { startApiCounter } from "./api-counter.js";

const CLI = fileURLToPath(new URL("../dist/cli.js", import.meta.url));
const STACK = "bench";
const FLAGS = ["up-server", "--name", STACK, "--provider", "aws", "--region", "us-east-1", "--allow-cidr", "203.0.113.9/32", "--skip-bootstrap", "--json"];
/** The credential check every run makes before it reads anything. */
const CREDENTIAL_CHECK = "GetCallerIdentity";

const sum = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0);

/** Runs the CLI once; resolves to its wall time and parsed JSON document, or throws with its stderr. */
function runPilot(env: NodeJS.ProcessEnv): Promise<{ ms: number; doc: any }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, [CLI, ...FLAGS], { env: { ...process.env, CI: "true", ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code) => {
      const ms = performance.now() - started;
      if (code !== 0) return reject(new Error(`pilot ${FLAGS.join(" ")} exited ${code}:\n${stderr}`));
      resolve({ ms, doc: JSON.parse(stdout) });
    });
  });
}

export default async function benchNoopRerun(runs = 5): Promise<void> {
  const moto = await startMoto();
  const counter = await startApiCounter(moto.url);
  const home = mkdtempSync(join(tmpdir(), "pilot-bench-noop-"));
  const env = { ...motoEnv(counter.url), PILOT_HOME: home };
  try {
    const first = await runPilot(env);
    const createCalls = counter.total();
    const resources = Object.keys(JSON.parse(readFileSync(join(home, "stacks", STACK, "state.json"), "utf8")).resources).length;

    const times: number[] = [];
    let perRun: Record<string, number> = {};
    for (let i = 0; i < runs; i++) {
      counter.reset();
      const r = await runPilot(env);
      const changed = (r.doc.plan as { key: string; action: string }[]).filter((c) => c.action !== "keep");
      if (changed.length > 0) throw new Error(`the re-run was not a no-op: ${changed.map((c) => `${c.key}: ${c.action}`).join(", ")}`);
      times.push(r.ms);
      // Every re-run should make the same calls; if they differ, report the busiest.
      if (i === 0 || counter.total() > sum(perRun)) perRun = counter.counts();
    }
    times.sort((a, b) => a - b);
    const total = sum(perRun);
    const reads = total - (perRun[CREDENTIAL_CHECK] ?? 0);
    const byAction = Object.entries(perRun)
      .sort(([a, x], [b, y]) => y - x || a.localeCompare(b))
      .map(([action, n]) => `${action} ${n}`)
      .join(", ");
    const median = times[Math.floor(times.length / 2)];
    console.log(
      `noop-rerun: create ${first.ms.toFixed(0)} ms (${createCalls} API calls); no-op re-run median ${median.toFixed(0)} ms ` +
        `(min ${times[0].toFixed(0)}, max ${times[times.length - 1].toFixed(0)}, ${runs} runs), ${resources} resources`,
    );
    console.log(`noop-rerun: API calls per re-run: ${total} (${byAction})`);
    console.log(
      `noop-rerun: ${(reads / resources).toFixed(2)} read calls per resource besides the credential check ` +
        `(${reads} for ${resources}; target ≤ 1.00)${reads > resources ? "  ** over target **" : ""}`,
    );
  } finally {
    await counter.close();
    await moto.stop();
    rmSync(home, { recursive: true, force: true });
  }
}

/**
 * `npm run bench -- faults` (issue 8, point 10): the real CLI runs
 * `up-server --provider aws` and `teardown` against moto behind the tests'
 * fault proxy (test/support/fault-proxy.ts), which throttles, answers 5xx and
 * forwards-then-drops a share of calls, seeded. For each seed and loss rate
 * it reports whether the run completed, the faults, the create answers
 * dropped, the duplicates Pilot deleted, and the duplicates moto still holds
 * afterwards (target 0), plus what the duplicate check cost in API calls.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { awsInventory, type Inventory } from "../test/support/aws-inventory.js";
import { isCreateAction, startFaultProxy } from "../test/support/fault-proxy.js";
import { motoEnv, resetMoto, startMoto } from "../test/support/moto.js";
import { runCli } from "../test/support/run-cli.js";

const SEEDS = [1, 2, 3, 4];
/** Share of answers dropped; as much again is throttled (half) or answered 5xx (half). */
const DROP_RATES = [0.05, 0.1, 0.2];
const UNTOKENED = ["CreateVpc", "CreateInternetGateway", "AllocateAddress"];
/** One whole stack, by inventory kind (as test/integration/cli/helpers.ts FULL_STACK). */
const FULL_STACK: Record<string, number> = {
  vpc: 1, subnet: 3, igw: 1, routeTable: 1, securityGroup: 3, keyPair: 1, instance: 1, eip: 1, db: 1, dbSubnetGroup: 1, role: 1, instanceProfile: 1,
};
const UP = ["--provider", "aws", "--region", "us-east-1", "--allow-cidr", "203.0.113.9/32", "--skip-bootstrap", "--json"];

const extras = (inv: Inventory) => Object.entries(inv).reduce((n, [kind, ids]) => n + Math.max(0, ids.length - (FULL_STACK[kind] ?? 0)), 0);
const size = (inv: Inventory) => Object.values(inv).reduce((n, ids) => n + ids.length, 0);

export default async function benchFaults(): Promise<void> {
  const moto = await startMoto();
  const proxy = await startFaultProxy(moto.url, { seed: 0, rates: {} });
  const home = mkdtempSync(join(tmpdir(), "pilot-bench-faults-"));
  const env = { ...motoEnv(proxy.url), PILOT_HOME: home };
  let runs = 0;
  let completed = 0;
  let torn = 0;
  let dropped = 0;
  let droppedUntokened = 0;
  let deleted = 0;
  let left = 0;
  let checks = 0;
  const calls: number[] = [];
  try {
    // Fault-free: the calls of a whole create, so the cost of checking after every untokened create can be stated.
    await resetMoto(moto.url);
    const clean = await runCli(["up-server", "--name", "clean", ...UP], env);
    if (clean.code !== 0) throw new Error(`fault-free up-server failed:\n${clean.stderr}`);
    const cleanCalls = Object.values(proxy.calls()).reduce((a, b) => a + b, 0);
    await runCli(["teardown", "--name", "clean", "--yes", "--skip-final-snapshot"], env);

    console.log("faults: seed  drop%  up  faults  dropped(creates, untokened)  duplicates deleted  duplicates left  teardown  left after  calls");
    for (const drop of DROP_RATES) {
      for (const seed of SEEDS) {
        runs++;
        await resetMoto(moto.url);
        const stack = `f${seed}`;
        proxy.reset({ seed, rates: { throttle: drop / 2, "5xx": drop / 2, drop } });
        const up = await runCli(["up-server", "--name", stack, ...UP], env);
        const faults = proxy.faults();
        const total = Object.values(proxy.calls()).reduce((a, b) => a + b, 0);
        const creates = faults.filter((f) => f.mode === "drop" && isCreateAction(f.action));
        const untokened = creates.filter((f) => UNTOKENED.includes(f.action)).length;
        const events: { type: string; level?: string; message?: string }[] = up.json?.events ?? [];
        const gone = events.filter((e) => e.type === "log" && e.level === "warn" && /deleted duplicate/.test(e.message ?? "")).length;
        checks += events.filter((e) => e.type === "progress" && /looking for duplicates/.test(e.message ?? "")).length;
        const filter = { tag: { key: "pilot:stack", value: stack }, namePrefix: `pilot-${stack}-` };
        const dup = extras(await awsInventory(filter, "us-east-1", motoEnv(moto.url)));
        const down = await runCli(["teardown", "--name", stack, "--yes", "--skip-final-snapshot"], env);
        const after = size(await awsInventory(filter, "us-east-1", motoEnv(moto.url)));
        completed += up.code === 0 ? 1 : 0;
        torn += down.code === 0 ? 1 : 0;
        dropped += creates.length;
        droppedUntokened += untokened;
        deleted += gone;
        left += dup;
        if (up.code === 0) calls.push(total);
        console.log(
          `faults: ${String(seed).padStart(4)}  ${String(drop * 100).padStart(5)}  ${up.code === 0 ? "ok" : "FAIL"}  ${String(faults.length).padStart(6)}  ` +
            `${String(creates.length).padStart(16)}, ${String(untokened).padStart(9)}  ${String(gone).padStart(18)}  ${String(dup).padStart(15)}  ` +
            `${down.code === 0 ? "ok" : "FAIL"}  ${String(after).padStart(10)}  ${total}`,
        );
        if (up.code !== 0) console.log(`faults:   up-server said: ${up.stderr.split("\n").filter((l) => /failed|error/i.test(l)).join(" | ")}`);
      }
    }
    console.log(
      `faults: ${runs} runs (seeds ${SEEDS.join(",")} × drop ${DROP_RATES.map((r) => `${r * 100}%`).join("/")}, as much again throttled or 5xx): ` +
        `${completed} completed, ${torn} torn down; ${dropped} create answers dropped (${droppedUntokened} untokened), ` +
        `${deleted} duplicates deleted, ${left} duplicates left (target 0)`,
    );
    const median = calls.sort((a, b) => a - b)[Math.floor(calls.length / 2)];
    console.log(
      `faults: cost of the check: ${checks} listings after ${checks} retried untokened creates in ${runs} runs (checking only after a retry); ` +
        `checking after every one would add ${UNTOKENED.length} listings to each create of a stack (${cleanCalls} calls fault-free, +${((UNTOKENED.length / cleanCalls) * 100).toFixed(1)}%); ` +
        `median calls per faulty run ${median}`,
    );
  } finally {
    await proxy.close();
    await moto.stop();
    rmSync(home, { recursive: true, force: true });
  }
}

/**
 * `npm run bench`: measures what BENCHMARKS.md records. Each section prints
 * its figures; run on a quiet machine and copy them into BENCHMARKS.md with
 * the date and the machine.
 */
import { cpus, totalmem } from "node:os";
import { benchColdStart } from "./cold-start.js";
import { benchCriticalPath } from "./critical-path.js";

const only = process.argv.slice(2);
const wanted = (name: string) => only.length === 0 || only.includes(name);
const fmt = (n: number) => n.toFixed(0);

// The macro benchmarks need services (moto, sshd, Docker; terraform also a `terraform` binary and
// a provider mirror, or it says it is skipped): loaded only when wanted, each by an explicit
// import, so a missing or broken module fails loudly instead of being skipped.
const MACRO: Record<string, () => Promise<{ default: () => Promise<void> }>> = {
  "noop-rerun": () => import("./noop-rerun.js"),
  bootstrap: () => import("./bootstrap.js"),
  gcp: () => import("./gcp.js"),
  apps: () => import("./apps.js"),
  faults: () => import("./faults.js"),
  terraform: () => import("./terraform.js"),
};
const unknown = only.filter((name) => !["help", "walk", ...Object.keys(MACRO)].includes(name));
if (unknown.length > 0) {
  console.error(`bench: unknown benchmark(s) ${unknown.join(", ")}; choose from help, walk, ${Object.keys(MACRO).join(", ")}`);
  process.exit(2);
}

console.log(`# pilot bench, ${new Date().toISOString().slice(0, 10)}, node ${process.version}, ${cpus().length} × ${cpus()[0]?.model.trim()}, ${Math.round(totalmem() / 2 ** 30)} GiB`);

if (wanted("help")) {
  const r = benchColdStart(["--help"]);
  console.log(`help: pilot --help cold start: median ${fmt(r.medianMs)} ms (min ${fmt(r.minMs)} ms), peak RSS ${fmt(r.maxRssMb)} MB`);
}

if (wanted("walk")) {
  const r = await benchCriticalPath();
  console.log(
    `walk: synthetic AWS-shaped graph: critical path ${fmt(r.criticalMs)} ms, walk ${r.walkMs.map(fmt).join("/")} ms, overhead ${r.overheadPct.toFixed(1)}% (target ≤ 10%)`,
  );
}

for (const [name, load] of Object.entries(MACRO)) {
  if (!wanted(name)) continue;
  await (await load()).default();
}

/** `pilot --help` cold start: wall time and peak memory of a fresh process, median of N. */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const CLI = fileURLToPath(new URL("../dist/cli.js", import.meta.url));
const RSS = fileURLToPath(new URL("./report-rss.mjs", import.meta.url));

export function benchColdStart(args: string[], runs = 10, expectedStatus = 0): { medianMs: number; minMs: number; maxRssMb: number } {
  const times: number[] = [];
  let rss = 0;
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const r = spawnSync(process.execPath, ["--import", RSS, CLI, ...args], { encoding: "utf8" });
    times.push(performance.now() - t0);
    if (r.status !== expectedStatus) throw new Error(`pilot ${args.join(" ")} exited ${r.status}: ${r.stderr}`);
    const m = /maxRssKb=(\d+)/.exec(r.stderr);
    if (m) rss = Math.max(rss, Number(m[1]) / 1024);
  }
  times.sort((a, b) => a - b);
  return { medianMs: times[Math.floor(runs / 2)], minMs: times[0], maxRssMb: rss };
}

/**
 * Plants known bugs in a copy of the source, one at a time, and runs the
 * tests that claim to protect against each: a plant that no test fails on is
 * "MISSED". Run it with `npm run plant-bugs` (tsx): `-- NAME...` picks plants,
 * `--runs N` repeats each (a plant counts as caught only if every run fails),
 * `--list` prints them, `--keep` leaves the copy for a look.
 *
 * It never touches the working tree: src/, test/, state/ and the configs are
 * copied to a temporary folder (node_modules, .venv and .cache linked), the
 * plant is applied there, and the copy is removed at the end, also on Ctrl-C.
 * The unplanted copy must pass the same tests first, or a "caught" would mean
 * nothing. A plant whose tests fail only to load (a syntax slip in the
 * plant) is reported as BROKEN, not caught.
 */
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "..");

/** One bug: text edits to the source, and the test files that must catch it. */
interface Plant {
  name: string;
  what: string;
  edits: { file: string; find: string; replace: string }[];
  project: "unit" | "integration";
  tests: string[];
  /** The tests run the built CLI (dist/): build the planted copy first. */
  build?: boolean;
}

const PLANTS: Plant[] = [
  {
    name: "lock-ignores-host",
    what: "the stale-lock check ignores the host, so a lock held on another machine is taken over",
    edits: [
      {
        file: "src/state/lock.ts",
        find: "return holder.host === hostname() && holder.pid > 0 && !isProcessAlive(holder.pid);",
        replace: "return holder.pid > 0 && !isProcessAlive(holder.pid);",
      },
    ],
    project: "unit",
    tests: ["test/unit/state/store.test.ts"],
  },
  {
    name: "lock-eperm-is-dead",
    what: "EPERM (a live process of another user) is read as a dead holder",
    edits: [{ file: "src/state/lock.ts", find: 'return (err as NodeJS.ErrnoException).code === "EPERM";', replace: "return false;" }],
    project: "unit",
    tests: ["test/unit/state/store.test.ts"],
  },
  {
    name: "state-written-in-place",
    what: "the state file is written in place instead of temp file + fsync + rename",
    edits: [
      {
        file: "src/state/store.ts",
        find: 'import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync } from "node:fs";',
        replace: 'import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";',
      },
      {
        file: "src/state/store.ts",
        find: 'writeFileAtomic(this.file, JSON.stringify(state, null, 2) + "\\n");',
        replace: 'writeFileSync(this.file, JSON.stringify(state, null, 2) + "\\n", { mode: 0o600 });',
      },
    ],
    project: "unit",
    tests: ["test/unit/state/store.test.ts"],
  },
  {
    name: "rds-class-change-replaces",
    what: "a changed RDS instance class (or any drift RDS modifies in place) is planned as a replace, which deletes the database",
    edits: [
      {
        file: "src/providers/aws/db-instance.ts",
        find: 'if (reasons.length > 0) return { result: "update", reason: reasons.join("; "),',
        replace: 'if (reasons.length > 0) return { result: "replace", reason: reasons.join("; "),',
      },
    ],
    project: "unit",
    tests: ["test/unit/providers/aws/wait-and-resize.test.ts"],
  },
  {
    name: "cloudsql-tier-change-replaces",
    what: "a changed Cloud SQL tier (or drifted posture) is planned as a replace",
    edits: [
      {
        file: "src/providers/gcp/sql-instance.ts",
        find: 'return drift ? { result: "update", reason: drift,',
        replace: 'return drift ? { result: "replace", reason: drift,',
      },
    ],
    project: "unit",
    tests: ["test/unit/providers/gcp/sql-instance.test.ts"],
  },
  {
    name: "apply-replace-becomes-update",
    what: "a replace found at apply time is silently carried out as an in-place update",
    edits: [
      {
        file: "src/engine/apply.ts",
        find: 'if (d && d.result === "replace") action = "replace";',
        replace: 'if (d && d.result === "replace") action = "update";',
      },
    ],
    project: "unit",
    tests: ["test/unit/engine/apply.test.ts"],
  },
  {
    name: "redact-first-occurrence-only",
    what: "redaction hides only the first occurrence of a secret in a string",
    edits: [
      {
        file: "src/ui/redact.ts",
        find: 'for (const s of known) out = out.split(s).join("[redacted]");',
        replace: 'for (const s of known) out = out.replace(s, "[redacted]");',
      },
    ],
    project: "unit",
    tests: ["test/unit/ui/redact.test.ts"],
  },
  {
    name: "teardown-prints-password",
    what: "teardown prints the raw database password to stderr, after it deleted the state file",
    edits: [
      {
        file: "src/commands/teardown.ts",
        find: "async function forgetStack(ctx: CommandContext): Promise<void> {\n  rmSync(ctx.stackDir, { recursive: true, force: true });\n",
        replace:
          "async function forgetStack(ctx: CommandContext): Promise<void> {\n  rmSync(ctx.stackDir, { recursive: true, force: true });\n" +
          "  process.stderr.write(`removed the stack (password ${ctx.store.current?.secrets.dbPassword})\\n`);\n",
      },
    ],
    project: "integration",
    tests: ["test/integration/cli/teardown.test.ts"],
    build: true,
  },
];

interface RunOutcome {
  /** Full names of the tests that failed. */
  failed: string[];
  /** Files that failed to load or run at all (no test result). */
  broken: string[];
  code: number | null;
  output: string;
}

function parseArgs(argv: string[]) {
  const names: string[] = [];
  let runs = 1;
  let keep = false;
  let list = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--runs") runs = Number(argv[++i]);
    else if (a === "--keep") keep = true;
    else if (a === "--list") list = true;
    else if (a.startsWith("-")) throw new Error(`unknown option ${a}`);
    else names.push(a);
  }
  if (!Number.isInteger(runs) || runs < 1) throw new Error("--runs takes a whole number of at least 1");
  const unknown = names.filter((n) => !PLANTS.some((p) => p.name === n));
  if (unknown.length) throw new Error(`no plant named ${unknown.join(", ")} (see --list)`);
  return { plants: names.length ? PLANTS.filter((p) => names.includes(p.name)) : PLANTS, runs, keep, list };
}

/** A copy of what the tests need, the heavy folders linked rather than copied. */
function makeCopy(): string {
  const dir = mkdtempSync(join(tmpdir(), "pilot-plants-"));
  for (const item of ["src", "test", "state", "scripts", "package.json", "tsconfig.json", "tsconfig.build.json", "vitest.config.ts"]) {
    cpSync(join(REPO, item), join(dir, item), { recursive: true });
  }
  for (const link of ["node_modules", ".venv", ".cache"]) {
    if (existsSync(join(REPO, link))) symlinkSync(join(REPO, link), join(dir, link));
  }
  return dir;
}

function build(dir: string): void {
  const r = spawnSync(process.execPath, [join(dir, "node_modules", "typescript", "bin", "tsc"), "-p", "tsconfig.build.json"], { cwd: dir, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`build of the copy failed:\n${r.stdout}${r.stderr}`);
}

/** Runs vitest on the files in the copy; failed tests come from its JSON report. */
function runTests(dir: string, project: string, files: string[]): RunOutcome {
  const report = join(dir, `.plant-report-${process.pid}.json`);
  rmSync(report, { force: true });
  const r = spawnSync(
    process.execPath,
    [join(dir, "node_modules", "vitest", "vitest.mjs"), "run", "--project", project, "--reporter=json", `--outputFile=${report}`, ...files],
    { cwd: dir, encoding: "utf8", env: { ...process.env, FORCE_COLOR: "0", CI: "true" }, maxBuffer: 64 * 1024 * 1024 },
  );
  const failed: string[] = [];
  const broken: string[] = [];
  if (existsSync(report)) {
    const json = JSON.parse(readFileSync(report, "utf8")) as {
      testResults: { name: string; status: string; message?: string; assertionResults: { fullName: string; status: string }[] }[];
    };
    for (const file of json.testResults) {
      for (const t of file.assertionResults) if (t.status === "failed") failed.push(t.fullName);
      if (file.status === "failed" && file.assertionResults.every((t) => t.status !== "failed")) broken.push(`${file.name}: ${file.message ?? "failed"}`);
    }
  } else {
    broken.push("vitest wrote no report");
  }
  return { failed, broken, code: r.status, output: `${r.stdout}${r.stderr}` };
}

/** Applies a plant's edits; returns the original texts to restore. Restores them itself when an edit does not apply. */
function applyEdits(dir: string, plant: Plant): Map<string, string> {
  const originals = new Map<string, string>();
  try {
    for (const e of plant.edits) {
      const path = join(dir, e.file);
      const text = readFileSync(path, "utf8");
      if (!originals.has(path)) originals.set(path, text);
      const count = text.split(e.find).length - 1;
      if (count !== 1) throw new Error(`expected the text to replace once in ${e.file}, found it ${count} times (the source changed: update the plant)`);
      writeFileSync(path, text.replace(e.find, () => e.replace));
    }
  } catch (err) {
    for (const [path, text] of originals) writeFileSync(path, text);
    throw err;
  }
  return originals;
}

function main(): number {
  const { plants, runs, keep, list } = parseArgs(process.argv.slice(2));
  if (list) {
    for (const p of PLANTS) console.log(`${p.name.padEnd(30)} ${p.what}`);
    return 0;
  }
  const dir = makeCopy();
  const cleanup = () => {
    if (keep) console.error(`plant-bugs: the copy is kept in ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  };
  process.on("SIGINT", () => {
    cleanup();
    process.exit(130);
  });
  try {
    const started = Date.now();
    // Baseline: every involved test passes on the unplanted copy.
    const byProject = new Map<string, Set<string>>();
    for (const p of plants) for (const f of p.tests) (byProject.get(p.project) ?? byProject.set(p.project, new Set()).get(p.project)!).add(f);
    if (plants.some((p) => p.build)) build(dir);
    // A test that already fails unplanted proves nothing about a plant: it is left out of the verdicts, and named.
    const failingBefore = new Set<string>();
    for (const [project, files] of byProject) {
      const base = runTests(dir, project, [...files]);
      if (base.broken.length > 0) {
        console.error(base.output.slice(-4000));
        console.error(`plant-bugs: the unplanted ${project} tests do not even run (${base.broken.join("; ")}); fix them first.`);
        return 2;
      }
      for (const t of base.failed) failingBefore.add(t);
    }
    const files = [...byProject.values()].reduce((n, s) => n + s.size, 0);
    if (failingBefore.size === 0) console.log(`baseline: the unplanted copy passes (${files} test files)`);
    else console.log(`baseline: ${failingBefore.size} test(s) fail unplanted and are ignored below:\n${[...failingBefore].map((t) => `          ${t}`).join("\n")}`);

    let missed = 0;
    let distDirty = false;
    for (const plant of plants) {
      const results: RunOutcome[] = [];
      let originals: Map<string, string>;
      try {
        originals = applyEdits(dir, plant);
      } catch (err) {
        // The source moved on: the plant must be updated, which is a failure of this check, not a crash.
        missed++;
        console.log(`STALE   ${plant.name}: ${(err as Error).message}`);
        continue;
      }
      try {
        if (plant.build) build(dir);
        else if (distDirty && plant.project !== "unit") build(dir);
        distDirty = Boolean(plant.build);
        for (let i = 0; i < runs; i++) {
          const r = runTests(dir, plant.project, plant.tests);
          results.push({ ...r, failed: r.failed.filter((t) => !failingBefore.has(t)) });
        }
      } finally {
        for (const [path, text] of originals) writeFileSync(path, text);
      }
      const caught = results.filter((r) => r.failed.length > 0).length;
      const broken = results.some((r) => r.failed.length === 0 && r.broken.length > 0);
      const verdict = caught === runs ? "caught" : broken ? "BROKEN" : "MISSED";
      if (verdict !== "caught") missed++;
      const by = [...new Set(results.flatMap((r) => r.failed))];
      console.log(`${verdict.padEnd(7)} ${plant.name} (${caught}/${runs} runs): ${plant.what}`);
      if (by.length) for (const t of by.slice(0, 4)) console.log(`          failed: ${t}`);
      if (verdict === "BROKEN") console.log(`          ${results.flatMap((r) => r.broken).slice(0, 2).join("\n          ")}`);
    }
    console.log(`plant-bugs: ${plants.length - missed} of ${plants.length} plants caught on every run (${runs} run(s) each) in ${Math.round((Date.now() - started) / 1000)} s`);
    return missed ? 1 : 0;
  } finally {
    cleanup();
  }
}

process.exitCode = main();

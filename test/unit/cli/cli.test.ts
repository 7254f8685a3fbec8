import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runCli } from "../../support/run-cli.js";
import { tempHome } from "../../support/temp-home.js";

let t: ReturnType<typeof tempHome>;
beforeEach(() => (t = tempHome()));
afterEach(() => t.cleanup());
const env = () => ({ PILOT_HOME: t.home });

/** Every error is one or two short lines: no stack trace without --verbose. */
function expectShortError(stderr: string) {
  const lines = stderr.trim().split("\n");
  expect(lines.length).toBeLessThanOrEqual(2);
  expect(stderr).not.toMatch(/\n\s+at /);
}

describe("pilot CLI", () => {
  it("--help lists the commands and loads no cloud SDK", async () => {
    const trace = join(t.home, "imports.txt");
    writeFileSync(trace, "");
    const tracer = fileURLToPath(new URL("../../support/trace-imports.mjs", import.meta.url));
    const r = await runCli(["--help"], { ...env(), PILOT_TRACE_IMPORTS: trace }, { nodeArgs: ["--import", tracer] });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/up-server/);
    expect(r.stdout).toMatch(/teardown/);
    const loaded = readFileSync(trace, "utf8");
    expect(loaded).toMatch(/dist\/cli\.js/); // the trace works
    expect(loaded).not.toMatch(/@aws-sdk|@google-cloud|googleapis|ssh2/);
  });

  it("loads Google's libraries on the GCP path only: AWS and local load none, GCP no AWS SDK", async () => {
    const tracer = fileURLToPath(new URL("../../support/trace-imports.mjs", import.meta.url));
    // Each run loads its provider, then stops at a bad flag before any call goes out.
    const traced = async (provider: string, flags: string[], error: RegExp) => {
      const trace = join(t.home, `imports-${provider}.txt`);
      writeFileSync(trace, "");
      const r = await runCli(["up-server", "--provider", provider, ...flags], { ...env(), PILOT_TRACE_IMPORTS: trace }, { nodeArgs: ["--import", tracer] });
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(error);
      return readFileSync(trace, "utf8");
    };
    const badRegion = ["--region", "bad!", "--allow-cidr", "203.0.113.9/32"];
    const local = await traced("local", ["--postgres-image", "bad image!"], /Invalid image reference/);
    expect(local).toMatch(/providers\/local\/provider\.js/);
    expect(local).not.toMatch(/googleapis|google-auth-library|@google-cloud|gaxios|@aws-sdk/);
    const aws = await traced("aws", badRegion, /--region "bad!" is not valid/);
    expect(aws).toMatch(/@aws-sdk\/client-ec2/); // the trace sees the provider's SDK
    expect(aws).not.toMatch(/googleapis|google-auth-library|@google-cloud|gaxios/);
    const gcp = await traced("gcp", badRegion, /--region "bad!" is not valid/);
    expect(gcp).toMatch(/googleapis\/build\/src\/apis\/compute/);
    expect(gcp).not.toMatch(/@aws-sdk|@google-cloud\/compute/);
  }, 60_000); // three CLI processes, each loading an SDK

  it("a command's --help shows its options", async () => {
    const r = await runCli(["up-server", "--help"], env());
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/--allow-cidr/);
    expect(r.stdout).toMatch(/--dry-run/);
  });

  it("rejects an unknown flag with exit 2, one sentence and a hint", async () => {
    const r = await runCli(["up-server", "--provider", "aws", "--bogus"], env());
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/Unknown option "--bogus" for pilot up-server\./);
    expect(r.stderr).toMatch(/pilot up-server --help/);
    expectShortError(r.stderr);
    expect(existsSync(join(t.home, "stacks"))).toBe(false);
  });

  it("rejects an unknown command and a flag missing its value", async () => {
    expect((await runCli(["launch"], env())).code).toBe(2);
    const r = await runCli(["up-server", "--region"], env());
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/"--region" needs a value/);
  });

  it("rejects an invalid stack name before touching anything", async () => {
    const r = await runCli(["up-server", "--provider", "aws", "--name", "Bad_Name"], env());
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/Invalid stack name "Bad_Name"/);
    expectShortError(r.stderr);
  });

  it("refuses a flag that belongs to another provider", async () => {
    const r = await runCli(["up-server", "--provider", "aws", "--postgres-image", "postgres:16"], env());
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--postgres-image applies to --provider local only/);
  });

  it("rejects an image reference that is not one, for either image flag", async () => {
    for (const flag of ["--waypoint-image", "--postgres-image"]) {
      const r = await runCli(["up-server", "--provider", "local", flag, "bad image!"], env());
      expect(r.code, flag).toBe(2);
      expect(r.stderr).toMatch(new RegExp(`Invalid image reference "bad image!" for ${flag}`));
    }
    expect(existsSync(join(t.home, "stacks", "default", "state.json"))).toBe(false);
  });

  it("asks for a provider on a new stack", async () => {
    const r = await runCli(["up-server"], env());
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--provider/);
  });

  it("--json errors are one JSON document on stdout", async () => {
    const r = await runCli(["status", "--json"], env());
    expect(r.code).toBe(1);
    expect(r.json).toMatchObject({ ok: false, error: { message: expect.stringMatching(/does not exist/) } });
  });

  it("a corrupt state file stops every command and is left untouched", async () => {
    const dir = join(t.home, "stacks", "default");
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "state.json"), "{ not json");
    for (const args of [["status"], ["up-server", "--skip-bootstrap", "--allow-cidr", "10.1.2.3/32"], ["teardown", "--yes"]]) {
      const r = await runCli(args, env());
      expect(r.code, args.join(" ")).toBe(1);
      expect(r.stderr).toMatch(/state\.json is damaged/);
      expectShortError(r.stderr);
    }
    expect(readFileSync(join(dir, "state.json"), "utf8")).toBe("{ not json");
    expect(existsSync(join(dir, "state.json.backup"))).toBe(false);
  });

  it("unlock on an unlocked stack says so", async () => {
    const r = await runCli(["unlock"], env());
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/was not locked/);
  });

  it("init creates PILOT_HOME and reports prerequisites as JSON", async () => {
    const r = await runCli(["init", "--json"], env());
    expect(r.code).toBe(0);
    expect(r.json.checks.map((c: { name: string }) => c.name)).toContain("node");
  });
});

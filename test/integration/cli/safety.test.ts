/**
 * What must stop a run before it touches anything, through the real CLI
 * against moto: a damaged state file, a held lock, missing credentials, and
 * unsafe or invalid --allow-cidr values.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { startApiCounter } from "../../../bench/api-counter.js";
import { Cli, useCliHarness, expectOneStack, inventory, UP_FLAGS, until } from "./helpers.js";

const h = useCliHarness("pilot-cli-safety-");

/** Every error is one or two short lines: no stack trace without --verbose. */
function expectShortError(stderr: string) {
  const lines = stderr.trim().split("\n").filter((l) => !/^Acting as /.test(l));
  expect(lines.length, stderr).toBeLessThanOrEqual(2);
  expect(stderr).not.toMatch(/\n\s+at /);
}

async function expectNothingCreated(stack: string) {
  expect(Object.values(await inventory(stack)).flat()).toEqual([]);
}

describe("runs that must stop (aws, moto)", () => {
  it("a damaged state file stops the run, is named, left byte-for-byte untouched, and nothing is created", async () => {
    const dir = join(h.home, "stacks", "safe-corrupt");
    mkdirSync(dir, { recursive: true });
    const file = join(dir, "state.json");
    for (const text of ['{ "version": 1, "lineage": "oops"', JSON.stringify({ version: 1, lineage: "not-a-uuid", serial: 3 }) + "\n"]) {
      writeFileSync(file, text, { mode: 0o600 });
      const r = await h.cli.up("safe-corrupt");
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(file);
      expect(r.stderr).toMatch(/is damaged/);
      expectShortError(r.stderr);
      expect(readFileSync(file, "utf8")).toBe(text);
      expect(existsSync(`${file}.backup`)).toBe(false);
      await expectNothingCreated("safe-corrupt");
    }
  });

  it("a second concurrent run fails at once on the lock, naming the holder's pid; the first completes", async () => {
    // Slow moto down so the first run is still going when the second starts.
    const slow = await startApiCounter(h.url, { delayMs: 150 });
    try {
      const first = new Cli(h.url, h.home, slow.url);
      let pid = 0;
      const lockFile = join(h.home, "stacks", "safe-lock", "state.lock");
      const running = first.up("safe-lock", [], { onSpawn: (p) => (pid = p) });
      await until(() => existsSync(lockFile), 30_000, "the first run's lock");
      const started = Date.now();
      const second = await h.cli.up("safe-lock", ["--json"]);
      const took = Date.now() - started;
      const firstResult = await running;

      expect(second.code).toBe(1);
      expect(second.json.error.message).toMatch(new RegExp(`locked by pid ${pid}\\b`));
      expect(second.stderr).toMatch(new RegExp(`locked by pid ${pid}\\b`));
      expectShortError(second.stderr);
      expect(took).toBeLessThan(5_000); // at once, not after waiting
      expect(firstResult.code, firstResult.stderr).toBe(0);
      expect(firstResult.code !== null && slow.total()).toBeGreaterThan(0);
      await expectOneStack(h.cli, "safe-lock");
      expect(existsSync(lockFile)).toBe(false);
    } finally {
      await slow.close();
    }
  });

  it("missing credentials: one sentence, non-zero exit, nothing created", async () => {
    writeFileSync(join(h.home, "empty"), "");
    const r = await h.cli.run(["up-server", "--name", "safe-nocreds", ...UP_FLAGS], {
      AWS_ACCESS_KEY_ID: undefined,
      AWS_SECRET_ACCESS_KEY: undefined,
      AWS_SESSION_TOKEN: undefined,
      AWS_PROFILE: undefined,
      AWS_SHARED_CREDENTIALS_FILE: join(h.home, "empty"),
      AWS_CONFIG_FILE: join(h.home, "empty"),
      // No instance metadata service here: fail fast instead of waiting for its time-out.
      AWS_EC2_METADATA_DISABLED: "true",
    });
    expect(r.code).not.toBe(0);
    expect(r.code).not.toBeNull();
    expect(r.stderr).toMatch(/^Error: No AWS credentials found\.\n/);
    expectShortError(r.stderr);
    expect(existsSync(h.cli.stateFile("safe-nocreds"))).toBe(false);
    await expectNothingCreated("safe-nocreds");
  });

  it("refuses --allow-cidr 0.0.0.0/0 without --allow-world, and an invalid CIDR, with exit 2", async () => {
    const base = ["up-server", "--name", "safe-cidr", "--provider", "aws", "--region", "us-east-1", "--skip-bootstrap"];
    const world = await h.cli.run([...base, "--allow-cidr", "0.0.0.0/0"]);
    expect(world.code).toBe(2);
    expect(world.stderr).toMatch(/0\.0\.0\.0\/0/);
    expect(world.stderr).toMatch(/--allow-world/);
    expectShortError(world.stderr);

    for (const bad of ["203.0.113.300/32", "10.0.0.0/33", "example.com"]) {
      const r = await h.cli.run([...base, "--allow-cidr", bad]);
      expect(r.code, bad).toBe(2);
      expect(r.stderr).toContain(`--allow-cidr "${bad}" is not an IPv4 CIDR.`);
      expectShortError(r.stderr);
    }
    // A /0 hidden behind host bits is still the world.
    expect((await h.cli.run([...base, "--allow-cidr", "10.1.2.3/0"])).code).toBe(2);
    expect(existsSync(h.cli.stateFile("safe-cidr"))).toBe(false);
    await expectNothingCreated("safe-cidr");
  });
});

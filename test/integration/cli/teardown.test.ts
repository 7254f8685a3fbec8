/**
 * `pilot teardown` through the real CLI against moto: nothing tagged or
 * named for the stack is left, the local stack folder goes, and without
 * --skip-final-snapshot the database's final snapshot is kept and named.
 */
import { DescribeDBSnapshotsCommand, RDSClient } from "@aws-sdk/client-rds";
import { existsSync, lstatSync, mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { useCliHarness, expectNothingLeft, expectOneStack, NODE_KEYS } from "./helpers.js";

const h = useCliHarness("pilot-cli-td-");

describe("pilot teardown (aws, moto)", () => {
  it("--yes --skip-final-snapshot leaves nothing of the stack, in moto or on disk", async () => {
    expect((await h.cli.up("td-all")).code).toBe(0);
    await expectOneStack(h.cli, "td-all");
    // Teardown deletes the state file: the output check must know the password before the run.
    expect(h.cli.secrets.has(h.cli.state("td-all").secrets.dbPassword!)).toBe(true);
    // The user made the stack's Waypoint context their default, as `waypoint context use pilot-td-all` does (a symlink).
    const contexts = join(h.home, "xdg", "waypoint", "context");
    mkdirSync(contexts, { recursive: true });
    writeFileSync(join(contexts, "pilot-td-all.hcl"), "server {}\n");
    symlinkSync(join(contexts, "pilot-td-all.hcl"), join(contexts, "_default.hcl"));
    const r = await h.cli.run(["teardown", "--name", "td-all", "--yes", "--skip-final-snapshot", "--json"], { XDG_CONFIG_HOME: join(h.home, "xdg") });
    expect(r.code, r.stderr).toBe(0);
    expect(r.json).toMatchObject({ ok: true });
    // Left in place, the default would aim at a deleted file and every `waypoint` command would fail.
    expect(existsSync(join(contexts, "pilot-td-all.hcl"))).toBe(false);
    expect(() => lstatSync(join(contexts, "_default.hcl"))).toThrow(/ENOENT/);
    expect(r.stderr).toContain("default context was pilot-td-all; it is unset now");
    expect([...r.json.deleted].sort()).toEqual([...NODE_KEYS].sort());
    await expectNothingLeft("td-all");
    expect(existsSync(join(h.home, "stacks", "td-all"))).toBe(false);
    // And the stack is gone for the CLI too.
    const status = await h.cli.run(["status", "--name", "td-all"]);
    expect(status.code).toBe(1);
    expect(status.stderr).toMatch(/does not exist/);
  });

  it("without --skip-final-snapshot keeps a final snapshot and says its name", async () => {
    expect((await h.cli.up("td-snap")).code).toBe(0);
    const dbId = h.cli.state("td-snap").resources.db.id!;
    const r = await h.cli.teardown("td-snap", ["--json"]);
    expect(r.code, r.stderr).toBe(0);
    const said = (r.json.events as { type: string; key: string; message?: string }[])
      .filter((e) => e.type === "progress" && e.key === "db")
      .map((e) => e.message)
      .join("\n");
    const name = /final snapshot (\S+?)(?:,|\s|$)/.exec(said)?.[1];
    expect(name, said).toMatch(new RegExp(`^${dbId}-final-\\d{12}$`));
    await expectNothingLeft("td-snap");
    const rds = new RDSClient({ region: "us-east-1" });
    try {
      const snaps = await rds.send(new DescribeDBSnapshotsCommand({ DBSnapshotIdentifier: name }));
      expect(snaps.DBSnapshots?.[0]?.DBInstanceIdentifier).toBe(dbId);
    } finally {
      rds.destroy();
    }
    // The human form names it too (the stack was re-created for this).
    expect((await h.cli.up("td-snap2")).code).toBe(0);
    const human = await h.cli.teardown("td-snap2", []);
    expect(human.code, human.stderr).toBe(0);
    expect(`${human.stdout}\n${human.stderr}`).toMatch(/final snapshot pilot-td-snap2-[0-9a-f]{8}-final-\d{12}/);
  });

  it("--dry-run lists what it would delete and deletes nothing", async () => {
    expect((await h.cli.up("td-dry")).code).toBe(0);
    const serial = h.cli.state("td-dry").serial;
    const r = await h.cli.run(["teardown", "--name", "td-dry", "--dry-run", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json.plan.map((c: { key: string }) => c.key).sort()).toEqual([...NODE_KEYS].sort());
    expect(r.json.plan.every((c: { action: string }) => c.action === "delete")).toBe(true);
    expect(h.cli.state("td-dry").serial).toBe(serial);
    await expectOneStack(h.cli, "td-dry");
  });
});

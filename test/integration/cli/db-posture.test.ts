/**
 * The database's posture through the real CLI against moto (issue 8, points
 * 8 and 9): PostgreSQL 16, deletion protection on (a stray DeleteDBInstance
 * is refused; teardown lifts it only after the user confirmed), and public
 * accessibility or lifted protection made outside Pilot is drift that the
 * next run repairs.
 */
import { DeleteDBInstanceCommand, DescribeDBInstancesCommand, ModifyDBInstanceCommand } from "@aws-sdk/client-rds";
import { describe, expect, it } from "vitest";
import { expectNothingLeft, useCliHarness, withRds } from "./helpers.js";

const h = useCliHarness("pilot-cli-dbp-");
const live = (id: string) => withRds(async (rds) => (await rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: id }))).DBInstances![0]!);

describe("pilot up-server: the database's posture (aws, moto)", () => {
  it("PostgreSQL 16, protected from deletion; drift made outside Pilot is repaired; teardown still removes it", async () => {
    expect((await h.cli.up("dbp")).code).toBe(0);
    const id = h.cli.ids("dbp").db!;
    const db = await live(id);
    expect(db.EngineVersion).toMatch(/^16(\.|$)/);
    expect(db).toMatchObject({ DeletionProtection: true, PubliclyAccessible: false, StorageEncrypted: true });
    await expect(withRds((rds) => rds.send(new DeleteDBInstanceCommand({ DBInstanceIdentifier: id, SkipFinalSnapshot: true })))).rejects.toThrow();

    // Someone opens it up and lifts the protection.
    await withRds((rds) => rds.send(new ModifyDBInstanceCommand({ DBInstanceIdentifier: id, PubliclyAccessible: true, DeletionProtection: false, ApplyImmediately: true })));
    const status = await h.cli.run(["status", "--name", "dbp", "--json"]);
    expect(JSON.stringify(status.json)).toMatch(/it was made publicly accessible; deletion protection is off/);
    const r = await h.cli.up("dbp", ["--json"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json.plan.filter((c: { action: string }) => c.action !== "keep")).toEqual([
      expect.objectContaining({ key: "db", action: "update", reason: "it was made publicly accessible; deletion protection is off" }),
    ]);
    expect(await live(id)).toMatchObject({ DeletionProtection: true, PubliclyAccessible: false });
    expect(h.cli.ids("dbp").db).toBe(id);

    expect((await h.cli.teardown("dbp")).code).toBe(0);
    await expectNothingLeft("dbp");
  });
});

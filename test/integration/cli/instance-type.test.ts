/**
 * A changed `--instance-type` through the real CLI against moto: an in-place
 * stop, modify and start of the same server (its root volume holds the
 * Waypoint data), asked for like a replace.
 */
import { DescribeInstancesCommand, EC2Client } from "@aws-sdk/client-ec2";
import { describe, expect, it } from "vitest";
import { expectOneStack, inventory, useCliHarness } from "./helpers.js";

const h = useCliHarness("pilot-cli-type-");

async function liveInstance(id: string): Promise<{ type?: string; state?: string }> {
  const ec2 = new EC2Client({ region: "us-east-1" });
  try {
    const res = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [id] }));
    const i = res.Reservations?.[0]?.Instances?.[0];
    return { type: i?.InstanceType, state: i?.State?.Name };
  } finally {
    ec2.destroy();
  }
}

describe("pilot up-server --instance-type (aws, moto)", () => {
  it("asks first (exit 2 without --yes and a terminal, nothing changed); with --yes changes the type in place", async () => {
    expect((await h.cli.up("type-change")).code).toBe(0);
    const ids = h.cli.ids("type-change");
    const serial = h.cli.state("type-change").serial;
    const before = await inventory("type-change");
    expect(await liveInstance(ids.server!)).toEqual({ type: "t3.small", state: "running" });

    const refused = await h.cli.up("type-change", ["--instance-type", "t3.medium"]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/Update server \(instance type t3\.small → t3\.medium: stops and starts the server\), with downtime: this needs confirmation\./);
    expect(refused.stderr).toMatch(/--yes/);
    expect(h.cli.state("type-change").serial).toBe(serial);
    expect(h.cli.ids("type-change")).toEqual(ids);
    expect(await inventory("type-change")).toEqual(before);
    expect(await liveInstance(ids.server!)).toEqual({ type: "t3.small", state: "running" });

    const r = await h.cli.up("type-change", ["--instance-type", "t3.medium", "--yes", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const changed = (r.json.plan as { key: string; action: string; disruptive?: boolean }[]).filter((c) => c.action !== "keep");
    expect(changed).toEqual([expect.objectContaining({ key: "server", action: "update", disruptive: true })]);
    // The same server (and so the same root volume and address), now t3.medium and running.
    expect(h.cli.ids("type-change")).toEqual(ids);
    expect(await liveInstance(ids.server!)).toEqual({ type: "t3.medium", state: "running" });
    const server = h.cli.state("type-change").resources.server.out as { instanceType: string; state: string };
    expect(server).toMatchObject({ instanceType: "t3.medium", state: "running" });
    expect((h.cli.state("type-change").resources.eip.out as { instanceId: string }).instanceId).toBe(ids.server);
    await expectOneStack(h.cli, "type-change");

    // And a run after that changes nothing.
    const again = await h.cli.up("type-change", ["--json"]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.json.plan.filter((c: { action: string }) => c.action !== "keep")).toEqual([]);
  });
});

describe("pilot up-server --db-instance-class (aws, moto)", () => {
  it("modifies the same database in place: planned as an update, never a replace that would delete it", async () => {
    expect((await h.cli.up("class-change")).code).toBe(0);
    const ids = h.cli.ids("class-change");
    expect((h.cli.state("class-change").resources.db.out as { instanceClass: string }).instanceClass).toBe("db.t4g.micro");

    const dry = await h.cli.up("class-change", ["--db-instance-class", "db.t4g.small", "--dry-run", "--json"]);
    expect(dry.code, dry.stderr).toBe(0);
    const planned = (dry.json.plan as { key: string; action: string }[]).filter((c) => c.action !== "keep");
    expect(planned).toEqual([expect.objectContaining({ key: "db", action: "update", reason: "class db.t4g.micro → db.t4g.small", disruptive: true })]);
    // The database is down while its class changes: asked for, so without --yes and a terminal nothing happens.
    const unasked = await h.cli.up("class-change", ["--db-instance-class", "db.t4g.small", "--json"]);
    expect(unasked.code, unasked.stderr).toBe(2);
    expect((h.cli.state("class-change").resources.db.out as { instanceClass: string }).instanceClass).toBe("db.t4g.micro");

    const r = await h.cli.up("class-change", ["--db-instance-class", "db.t4g.small", "--yes", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    // The same database (its data), now of the new class.
    expect(h.cli.ids("class-change")).toEqual(ids);
    expect((await inventory("class-change")).db).toEqual([ids.db]);
    expect(h.cli.state("class-change").resources.db.out).toMatchObject({ instanceClass: "db.t4g.small", status: "available" });
    await expectOneStack(h.cli, "class-change");
  });
});

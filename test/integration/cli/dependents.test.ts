/**
 * Dependents of a replaced resource are replaced only when their own spec
 * changes (issue 8, point 4), through the real CLI against moto: a rebuilt
 * server keeps its Elastic IP (re-associated, the address the Waypoint
 * certificate is signed for), and a regenerated local SSH key re-imports the
 * key pair without touching the server or its address.
 */
import { DescribeAddressesCommand, EC2Client } from "@aws-sdk/client-ec2";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { expectOneStack, useCliHarness } from "./helpers.js";

const h = useCliHarness("pilot-cli-deps-");
/** The older of the two amd64 Ubuntu images moto publishes (scripts/moto-amis.json); the provider picks the newer one. */
const OLDER_UBUNTU = "ami-0a0b0c0d0e0f00001";

async function address(allocationId: string): Promise<{ publicIp?: string; instanceId?: string }> {
  const ec2 = new EC2Client({ region: "us-east-1" });
  try {
    const a = (await ec2.send(new DescribeAddressesCommand({ AllocationIds: [allocationId] }))).Addresses?.[0];
    return { publicIp: a?.PublicIp, instanceId: a?.InstanceId };
  } finally {
    ec2.destroy();
  }
}

const changed = (plan: { key: string; action: string }[]) => Object.fromEntries(plan.filter((c) => c.action !== "keep").map((c) => [c.key, c.action]));

describe("pilot up-server: dependents of a replaced resource (aws, moto)", () => {
  it("a server rebuilt for another image keeps its Elastic IP, re-associated with the new server", async () => {
    expect((await h.cli.up("rebuild")).code).toBe(0);
    const before = h.cli.ids("rebuild");
    const ip = await address(before.eip!);
    expect(ip.instanceId).toBe(before.server);

    const r = await h.cli.up("rebuild", ["--ami", OLDER_UBUNTU, "--yes", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    expect(changed(r.json.plan)).toEqual({ server: "replace", eip: "update" });
    const after = h.cli.ids("rebuild");
    expect(after.server).not.toBe(before.server);
    // The same allocation and public address, now on the new server.
    expect(after.eip).toBe(before.eip);
    expect(await address(after.eip!)).toEqual({ publicIp: ip.publicIp, instanceId: after.server });
    expect(after).toEqual({ ...before, server: after.server });
    await expectOneStack(h.cli, "rebuild");

    const again = await h.cli.up("rebuild", ["--ami", OLDER_UBUNTU, "--json"]);
    expect(again.code, again.stderr).toBe(0);
    expect(changed(again.json.plan)).toEqual({});
  });

  it("a regenerated local SSH key re-imports the key pair only: no server rebuild, no new address", async () => {
    expect((await h.cli.up("rekey")).code).toBe(0);
    const before = h.cli.ids("rekey");
    const stackDir = join(h.home, "stacks", "rekey");
    rmSync(join(stackDir, "id_ed25519"));
    rmSync(join(stackDir, "id_ed25519.pub"));

    const r = await h.cli.up("rekey", ["--yes", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    expect(changed(r.json.plan)).toEqual({ "key-pair": "replace" });
    expect(h.cli.ids("rekey")).toEqual(before);
    await expectOneStack(h.cli, "rekey");
  });
});

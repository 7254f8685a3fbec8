/**
 * Drift the review found Pilot blind to (issue 8, point 9), through the real
 * CLI against moto: an outbound rule added to a security group and the
 * default egress removed from another, and the server's metadata service made
 * to answer IMDSv1 again. `pilot status` names each; the next `up-server`
 * repairs each in place (same ids) and a third run has nothing to do.
 * (A blackholed default route cannot be made in moto:
 * test/unit/providers/aws/route-blackhole.test.ts.)
 */
import {
  AuthorizeSecurityGroupEgressCommand,
  DescribeInstancesCommand,
  DescribeSecurityGroupsCommand,
  ModifyInstanceMetadataOptionsCommand,
  RevokeSecurityGroupEgressCommand,
} from "@aws-sdk/client-ec2";
import { describe, expect, it } from "vitest";
import { useCliHarness, withEc2 } from "./helpers.js";

const h = useCliHarness("pilot-cli-netdrift-");
const egressOf = (groupId: string) =>
  withEc2(async (ec2) => (await ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [groupId] }))).SecurityGroups![0]!.IpPermissionsEgress ?? []);
const tokensOf = (instanceId: string) =>
  withEc2(async (ec2) => (await ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }))).Reservations![0]!.Instances![0]!.MetadataOptions?.HttpTokens);
const ALL_OUT = { IpProtocol: "-1", IpRanges: [{ CidrIp: "0.0.0.0/0" }] };

describe("pilot up-server: egress and IMDSv2 drift (aws, moto)", () => {
  it("reports an opened or closed egress and IMDSv1 re-enabled, repairs them in place, then has nothing to do", async () => {
    expect((await h.cli.up("nd")).code).toBe(0);
    const ids = h.cli.ids("nd");
    expect(await tokensOf(ids.server!)).toBe("required");

    await withEc2(async (ec2) => {
      // The apps group may now reach one more place on its own...
      await ec2.send(new AuthorizeSecurityGroupEgressCommand({ GroupId: ids["sg-apps"], IpPermissions: [{ IpProtocol: "tcp", FromPort: 25, ToPort: 25, IpRanges: [{ CidrIp: "198.51.100.0/24" }] }] }));
      // ...the server's group no longer reaches anything (no apt, no image pulls)...
      await ec2.send(new RevokeSecurityGroupEgressCommand({ GroupId: ids["sg-server"], IpPermissions: [ALL_OUT] }));
      // ...and the metadata service answers a plain GET with the role's credentials again.
      await ec2.send(new ModifyInstanceMetadataOptionsCommand({ InstanceId: ids.server, HttpTokens: "optional" }));
    });

    const status = JSON.stringify((await h.cli.run(["status", "--name", "nd", "--json"])).json);
    expect(status).toContain("egress rules changed outside Pilot (+1 -0)");
    expect(status).toContain("egress rules changed outside Pilot (+0 -1)");
    expect(status).toContain("metadata tokens (IMDSv2) are optional, not required");

    const r = await h.cli.up("nd", ["--json"]);
    expect(r.code, r.stderr).toBe(0);
    const changed = r.json.plan.filter((c: { action: string }) => c.action !== "keep").map((c: { key: string; action: string }) => `${c.key}:${c.action}`);
    expect(changed.sort()).toEqual(["server:update", "sg-apps:update", "sg-server:update"]);
    expect(h.cli.ids("nd")).toEqual(ids);
    expect(await egressOf(ids["sg-apps"]!)).toEqual([expect.objectContaining(ALL_OUT)]);
    expect(await egressOf(ids["sg-server"]!)).toEqual([expect.objectContaining(ALL_OUT)]);
    expect(await tokensOf(ids.server!)).toBe("required");

    const again = await h.cli.up("nd", ["--json"]);
    expect(again.json.plan.filter((c: { action: string }) => c.action !== "keep")).toEqual([]);
  });
});

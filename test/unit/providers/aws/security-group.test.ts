/**
 * The security groups that hold the server's posture (SSH and Waypoint from
 * --allow-cidr only; 5432 only from the server's and the apps' groups), with
 * aws-sdk-client-mock: what a read makes of rules changed by hand, what diff
 * calls drift, and that update authorizes exactly what is missing and revokes
 * exactly what is extra, on the same group. (Inbound rules only: egress is
 * compared with AWS's default, checked where that is written.)
 */
import {
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  DeleteSecurityGroupCommand,
  DescribeSecurityGroupsCommand,
  EC2Client,
  RevokeSecurityGroupIngressCommand,
} from "@aws-sdk/client-ec2";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, describe, expect, it } from "vitest";
import { ruleKeys, securityGroupKind, type SecurityGroupSpec } from "../../../../src/providers/aws/security-group.js";
import { stackTagList, tagFilters } from "../../../../src/providers/aws/shared.js";
import { kindEnv } from "./kind-env.js";

const ec2Mock = mockClient(EC2Client);
afterEach(() => ec2Mock.reset());
const region = "us-east-1";
const env = () => kindEnv({ region });
const tags = { stack: "t", stackId: "11111111-2222-3333-4444-555555555555", key: "sg-server" };
const ec2Error = (code: string) => Object.assign(new Error(code), { name: code });
const spec: SecurityGroupSpec = {
  vpcId: "vpc-1",
  name: "pilot-t-server",
  description: "Pilot server",
  ingress: [
    { port: 22, cidrs: ["203.0.113.4/32"] },
    { port: 9701, cidrs: ["203.0.113.4/32"], sourceGroupIds: ["sg-apps"] },
  ],
};
const want = ["tcp:22:cidr:203.0.113.4/32", "tcp:9701:cidr:203.0.113.4/32", "tcp:9701:sg:sg-apps"];

describe("aws security group", () => {
  it("ruleKeys: one sorted key per port and source, without duplicates", () => {
    expect(ruleKeys([...spec.ingress, { port: 22, cidrs: ["203.0.113.4/32"] }])).toEqual(want);
    expect(ruleKeys([{ port: 5432 }])).toEqual([]);
  });

  it("create makes the group tagged as the stack's in the VPC, then authorizes every rule", async () => {
    ec2Mock.on(CreateSecurityGroupCommand).resolves({ GroupId: "sg-1" });
    ec2Mock.on(AuthorizeSecurityGroupIngressCommand).resolves({});
    const res = await securityGroupKind(env()).create(spec, { token: "tok", tags, progress: () => undefined });
    expect(res).toMatchObject({ id: "sg-1", out: { groupId: "sg-1", vpcId: "vpc-1", ingress: want } });
    expect(ec2Mock.commandCalls(CreateSecurityGroupCommand)[0]!.args[0].input).toEqual({
      VpcId: "vpc-1",
      GroupName: "pilot-t-server",
      Description: "Pilot server",
      TagSpecifications: [{ ResourceType: "security-group", Tags: stackTagList(tags) }],
    });
    expect(ec2Mock.commandCalls(AuthorizeSecurityGroupIngressCommand)[0]!.args[0].input).toEqual({
      GroupId: "sg-1",
      IpPermissions: [
        { IpProtocol: "tcp", FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: "203.0.113.4/32" }] },
        { IpProtocol: "tcp", FromPort: 9701, ToPort: 9701, IpRanges: [{ CidrIp: "203.0.113.4/32" }] },
        { IpProtocol: "tcp", FromPort: 9701, ToPort: 9701, UserIdGroupPairs: [{ GroupId: "sg-apps" }] },
      ],
    });
    expect(ec2Mock.commandCalls(RevokeSecurityGroupIngressCommand)).toHaveLength(0);
  });

  it("a retried create that finds some rules there already goes on; any other refusal stops it", async () => {
    ec2Mock.on(CreateSecurityGroupCommand).resolves({ GroupId: "sg-1" });
    ec2Mock.on(AuthorizeSecurityGroupIngressCommand).rejects(ec2Error("InvalidPermission.Duplicate"));
    await expect(securityGroupKind(env()).create(spec, { token: "tok", tags, progress: () => undefined })).resolves.toMatchObject({ id: "sg-1" });
    ec2Mock.on(AuthorizeSecurityGroupIngressCommand).rejects(ec2Error("RulesPerSecurityGroupLimitExceeded"));
    await expect(securityGroupKind(env()).create(spec, { token: "tok", tags, progress: () => undefined })).rejects.toThrow(/RulesPerSecurityGroupLimitExceeded/);
  });

  it("read shows every rule as it is, including ones added by hand (other protocols, port ranges, IPv6), and gone as undefined", async () => {
    ec2Mock.on(DescribeSecurityGroupsCommand, { GroupIds: ["sg-1"] }).resolves({
      SecurityGroups: [
        {
          GroupId: "sg-1",
          VpcId: "vpc-1",
          IpPermissions: [
            { IpProtocol: "tcp", FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: "203.0.113.4/32" }, { CidrIp: "0.0.0.0/0" }], Ipv6Ranges: [{ CidrIpv6: "::/0" }] },
            { IpProtocol: "tcp", FromPort: 8000, ToPort: 8100, UserIdGroupPairs: [{ GroupId: "sg-x" }] },
            { IpProtocol: "-1", IpRanges: [{ CidrIp: "10.0.0.0/8" }] },
            { FromPort: 53, ToPort: 53, IpRanges: [{ CidrIp: "10.0.0.0/8" }] },
          ],
        },
      ],
    });
    ec2Mock.on(DescribeSecurityGroupsCommand, { GroupIds: ["sg-gone"] }).rejects(ec2Error("InvalidGroup.NotFound"));
    const kind = securityGroupKind(env());
    expect(await kind.read("sg-1", undefined)).toMatchObject({
      groupId: "sg-1",
      vpcId: "vpc-1",
      ingress: ["-1:53:cidr:10.0.0.0/8", "-1:all:cidr:10.0.0.0/8", "tcp:22:cidr6:::/0", "tcp:22:cidr:0.0.0.0/0", "tcp:22:cidr:203.0.113.4/32", "tcp:8000-8100:sg:sg-x"],
    });
    expect(await kind.read("sg-gone", undefined)).toBeUndefined();
  });

  it("find looks the group up by the stack's tags", async () => {
    ec2Mock.on(DescribeSecurityGroupsCommand).resolves({ SecurityGroups: [{ GroupId: "sg-1", VpcId: "vpc-1", Tags: stackTagList(tags) }] });
    expect(await securityGroupKind(env()).find(tags, undefined)).toMatchObject({ id: "sg-1", out: { groupId: "sg-1", vpcId: "vpc-1", ingress: [] } });
    expect(ec2Mock.commandCalls(DescribeSecurityGroupsCommand)[0]!.args[0].input).toEqual({ Filters: tagFilters(tags) });
    ec2Mock.on(DescribeSecurityGroupsCommand).resolves({ SecurityGroups: [] });
    expect(await securityGroupKind(env()).find(tags, undefined)).toBeUndefined();
  });

  it("diff: same, another VPC is a replace, any rule difference an in-place update that counts both ways", () => {
    const kind = securityGroupKind(env());
    expect(kind.diff!(spec, { groupId: "sg-1", vpcId: "vpc-1", ingress: [...want].reverse() })).toEqual({ result: "same" });
    expect(kind.diff!(spec, { groupId: "sg-1", vpcId: "vpc-2", ingress: want })).toEqual({ result: "replace", reason: "the VPC changed" });
    expect(kind.diff!(spec, { groupId: "sg-1", vpcId: "vpc-1", ingress: [want[0]!, "tcp:22:cidr:0.0.0.0/0", "tcp:80:cidr:0.0.0.0/0"] })).toEqual({
      result: "update",
      reason: "ingress rules differ (+2 -2)",
    });
  });

  it("update authorizes only what is missing and revokes only what is extra, on the same group", async () => {
    ec2Mock.on(AuthorizeSecurityGroupIngressCommand).resolves({});
    ec2Mock.on(RevokeSecurityGroupIngressCommand).resolves({});
    const out = await securityGroupKind(env()).update!("sg-1", spec, { groupId: "sg-1", vpcId: "vpc-1", ingress: [want[0]!, "tcp:22:cidr:0.0.0.0/0"] });
    expect(out).toMatchObject({ groupId: "sg-1", vpcId: "vpc-1", ingress: want });
    expect(ec2Mock.commandCalls(AuthorizeSecurityGroupIngressCommand).map((c) => c.args[0].input)).toEqual([
      {
        GroupId: "sg-1",
        IpPermissions: [
          { IpProtocol: "tcp", FromPort: 9701, ToPort: 9701, IpRanges: [{ CidrIp: "203.0.113.4/32" }] },
          { IpProtocol: "tcp", FromPort: 9701, ToPort: 9701, UserIdGroupPairs: [{ GroupId: "sg-apps" }] },
        ],
      },
    ]);
    expect(ec2Mock.commandCalls(RevokeSecurityGroupIngressCommand).map((c) => c.args[0].input)).toEqual([
      { GroupId: "sg-1", IpPermissions: [{ IpProtocol: "tcp", FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: "0.0.0.0/0" }] }] },
    ]);
  });

  it("update revokes rules added by hand in any shape (IPv6, ranges, all ports) exactly as AWS holds them", async () => {
    ec2Mock.on(RevokeSecurityGroupIngressCommand).resolves({});
    await securityGroupKind(env()).update!("sg-1", { ...spec, ingress: [] }, { groupId: "sg-1", vpcId: "vpc-1", ingress: ["tcp:22:cidr6:::/0", "tcp:8000-8100:sg:sg-x", "-1:all:cidr:10.0.0.0/8"] });
    expect(ec2Mock.commandCalls(AuthorizeSecurityGroupIngressCommand)).toHaveLength(0);
    expect(ec2Mock.commandCalls(RevokeSecurityGroupIngressCommand)[0]!.args[0].input.IpPermissions).toEqual([
      { IpProtocol: "tcp", FromPort: 22, ToPort: 22, Ipv6Ranges: [{ CidrIpv6: "::/0" }] },
      { IpProtocol: "tcp", FromPort: 8000, ToPort: 8100, UserIdGroupPairs: [{ GroupId: "sg-x" }] },
      { IpProtocol: "-1", IpRanges: [{ CidrIp: "10.0.0.0/8" }] },
    ]);
  });

  it("delete removes the group; already gone is success; still in use propagates for the engine to retry", async () => {
    ec2Mock.on(DeleteSecurityGroupCommand, { GroupId: "sg-1" }).resolves({});
    ec2Mock.on(DeleteSecurityGroupCommand, { GroupId: "sg-gone" }).rejects(ec2Error("InvalidGroupId.NotFound"));
    ec2Mock.on(DeleteSecurityGroupCommand, { GroupId: "sg-used" }).rejects(ec2Error("DependencyViolation"));
    const kind = securityGroupKind(env());
    const ctx = { tags, progress: () => undefined };
    await kind.delete("sg-1", undefined, ctx);
    await kind.delete("sg-gone", undefined, ctx);
    await expect(kind.delete("sg-used", undefined, ctx)).rejects.toThrow(/DependencyViolation/);
    expect(ec2Mock.commandCalls(DeleteSecurityGroupCommand).map((c) => c.args[0].input.GroupId)).toEqual(["sg-1", "sg-gone", "sg-used"]);
  });
});

/**
 * A lost answer leaves a duplicate (issue 8, point 10): an untokened create
 * the SDK had to retry is followed by a listing by the node's own tags, the
 * resource the answer names is kept and every other one deleted, each with a
 * warning; a create answered at once costs no extra call. Kinds whose repeat
 * the cloud refuses (a security group's name, a subnet's range) adopt what
 * the lost answer made.
 */
import {
  AllocateAddressCommand,
  AssociateAddressCommand,
  AttachInternetGatewayCommand,
  AuthorizeSecurityGroupIngressCommand,
  CreateInternetGatewayCommand,
  CreateRouteCommand,
  CreateSecurityGroupCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  DeleteInternetGatewayCommand,
  DeleteVpcCommand,
  DescribeAddressesCommand,
  DescribeAvailabilityZonesCommand,
  DescribeInternetGatewaysCommand,
  DescribeSecurityGroupsCommand,
  DescribeSubnetsCommand,
  DescribeVpcsCommand,
  DetachInternetGatewayCommand,
  DisassociateAddressCommand,
  EC2Client,
  ReleaseAddressCommand,
  ReplaceRouteCommand,
  DescribeRouteTablesCommand,
  CreateRouteTableCommand,
} from "@aws-sdk/client-ec2";
import { AddRoleToInstanceProfileCommand, CreateInstanceProfileCommand, GetInstanceProfileCommand, IAMClient } from "@aws-sdk/client-iam";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, describe, expect, it } from "vitest";
import { REQUEST_HANDLER, createAwsClients, destroyAwsClients } from "../../../../src/providers/aws/clients.js";
import { elasticIpKind } from "../../../../src/providers/aws/elastic-ip.js";
import { instanceProfileKind } from "../../../../src/providers/aws/instance-profile.js";
import { internetGatewayKind } from "../../../../src/providers/aws/internet-gateway.js";
import { attemptsOf } from "../../../../src/providers/aws/lost-answers.js";
import { routeTableKind } from "../../../../src/providers/aws/route-table.js";
import { securityGroupKind } from "../../../../src/providers/aws/security-group.js";
import { stackTagList, tagFilters } from "../../../../src/providers/aws/shared.js";
import { subnetKind } from "../../../../src/providers/aws/subnet.js";
import { vpcKind } from "../../../../src/providers/aws/vpc.js";
import { ec2Error, kindEnv, OURS, THEIRS } from "./kind-env.js";

const ours = OURS;
const theirs = THEIRS;
/** The answer's metadata as the SDK's retry middleware leaves it: how many attempts the call took. */
const tried = (attempts: number) => ({ $metadata: { httpStatusCode: 200, attempts } });

/** A create context that records what the kind says and warns. */
function recording(key: string) {
  const said: string[] = [];
  const warned: string[] = [];
  return { said, warned, ctx: { token: "tok", tags: { ...ours, key }, progress: (m: string) => said.push(m), warn: (m: string) => warned.push(m) } };
}

const ec2Mock = mockClient(EC2Client);
const iamMock = mockClient(IAMClient);
afterEach(() => {
  ec2Mock.reset();
  iamMock.reset();
});
const env = () => kindEnv({ region: "us-east-1" });

describe("an untokened create that the SDK retried: keep the answered one, delete the others", () => {
  it("elastic IP: a duplicate found after AllocateAddress is disassociated if need be and released, with a warning naming it", async () => {
    ec2Mock.on(AllocateAddressCommand).resolves({ AllocationId: "eipalloc-2", PublicIp: "198.51.100.8", ...tried(2) });
    const tags = stackTagList({ ...ours, key: "eip" });
    ec2Mock.on(DescribeAddressesCommand, { Filters: tagFilters({ ...ours, key: "eip" }) }).resolves({
      Addresses: [
        { AllocationId: "eipalloc-1", PublicIp: "198.51.100.7", Tags: tags },
        { AllocationId: "eipalloc-2", PublicIp: "198.51.100.8", Tags: tags },
      ],
    });
    // The kind's own delete reads the duplicate first: unassociated, it is released at once.
    ec2Mock.on(DescribeAddressesCommand, { AllocationIds: ["eipalloc-1"] }).resolves({ Addresses: [{ AllocationId: "eipalloc-1", PublicIp: "198.51.100.7" }] });
    ec2Mock.on(ReleaseAddressCommand).resolves({});
    ec2Mock.on(AssociateAddressCommand).resolves({ AssociationId: "eipassoc-2" });
    const { ctx, warned, said } = recording("eip");

    const res = await elasticIpKind(env()).create({ instanceId: "i-1" }, ctx);

    expect(res).toEqual({ id: "eipalloc-2", out: { allocationId: "eipalloc-2", publicIp: "198.51.100.8", instanceId: "i-1", associationId: "eipassoc-2" } });
    expect(ec2Mock.commandCalls(ReleaseAddressCommand).map((c) => c.args[0].input)).toEqual([{ AllocationId: "eipalloc-1" }]);
    expect(ec2Mock.commandCalls(DisassociateAddressCommand)).toHaveLength(0);
    expect(ec2Mock.commandCalls(AssociateAddressCommand).map((c) => c.args[0].input.AllocationId)).toEqual(["eipalloc-2"]);
    expect(warned).toEqual([
      "deleted duplicate aws.ec2.elastic-ip eipalloc-1: the create was retried after an answer was lost, and it had taken effect twice (kept eipalloc-2).",
    ]);
    expect(said[0]).toMatch(/took 2 attempts/);
  });

  it("elastic IP: a duplicate that got associated meanwhile is disassociated before it is released", async () => {
    ec2Mock.on(AllocateAddressCommand).resolves({ AllocationId: "eipalloc-2", PublicIp: "198.51.100.8", ...tried(3) });
    ec2Mock.on(DescribeAddressesCommand, { Filters: tagFilters({ ...ours, key: "eip" }) }).resolves({ Addresses: [{ AllocationId: "eipalloc-2" }, { AllocationId: "eipalloc-1" }] });
    ec2Mock.on(DescribeAddressesCommand, { AllocationIds: ["eipalloc-1"] }).resolves({ Addresses: [{ AllocationId: "eipalloc-1", PublicIp: "198.51.100.7", AssociationId: "eipassoc-9", InstanceId: "i-9" }] });
    ec2Mock.on(DisassociateAddressCommand).resolves({});
    ec2Mock.on(ReleaseAddressCommand).resolves({});
    ec2Mock.on(AssociateAddressCommand).resolves({ AssociationId: "eipassoc-2" });
    const { ctx } = recording("eip");
    await elasticIpKind(env()).create({ instanceId: "i-1" }, ctx);
    expect(ec2Mock.commandCalls(DisassociateAddressCommand).map((c) => c.args[0].input)).toEqual([{ AssociationId: "eipassoc-9" }]);
    expect(ec2Mock.commandCalls(ReleaseAddressCommand).map((c) => c.args[0].input)).toEqual([{ AllocationId: "eipalloc-1" }]);
  });

  it("VPC: every other VPC with the node's tags is deleted; the listing is asked again until it shows the VPC just made", async () => {
    ec2Mock.on(CreateVpcCommand).resolves({ Vpc: { VpcId: "vpc-3", State: "available", CidrBlock: "10.42.0.0/16" }, ...tried(3) });
    ec2Mock
      .on(DescribeVpcsCommand, { Filters: tagFilters({ ...ours, key: "vpc" }) })
      // EC2 is eventually consistent: a listing without the VPC just made may be missing the duplicates too.
      .resolvesOnce({ Vpcs: [{ VpcId: "vpc-1" }] })
      .resolves({ Vpcs: [{ VpcId: "vpc-2" }, { VpcId: "vpc-3" }, { VpcId: "vpc-1" }] });
    ec2Mock.on(DeleteVpcCommand).resolves({});
    const { ctx, warned } = recording("vpc");

    const res = await vpcKind(env()).create({ cidr: "10.42.0.0/16" }, ctx);

    expect(res.id).toBe("vpc-3");
    expect(ec2Mock.commandCalls(DescribeVpcsCommand)).toHaveLength(2);
    expect(ec2Mock.commandCalls(DeleteVpcCommand).map((c) => c.args[0].input.VpcId)).toEqual(["vpc-1", "vpc-2"]);
    expect(warned).toHaveLength(2);
    expect(warned[0]).toMatch(/^deleted duplicate aws\.ec2\.vpc vpc-1: .*\(kept vpc-3\)\.$/);
  });

  it("internet gateway: a duplicate is detached if attached, then deleted; the answered one is attached", async () => {
    ec2Mock.on(CreateInternetGatewayCommand).resolves({ InternetGateway: { InternetGatewayId: "igw-2" }, ...tried(2) });
    ec2Mock.on(DescribeInternetGatewaysCommand, { Filters: tagFilters({ ...ours, key: "igw" }) }).resolves({
      InternetGateways: [{ InternetGatewayId: "igw-1" }, { InternetGatewayId: "igw-2" }],
    });
    ec2Mock.on(DescribeInternetGatewaysCommand, { InternetGatewayIds: ["igw-1"] }).resolves({
      InternetGateways: [{ InternetGatewayId: "igw-1", Attachments: [{ VpcId: "vpc-1", State: "available" as never }] }],
    });
    ec2Mock.on(DetachInternetGatewayCommand).resolves({});
    ec2Mock.on(DeleteInternetGatewayCommand).resolves({});
    ec2Mock.on(AttachInternetGatewayCommand).resolves({});
    const { ctx, warned } = recording("igw");

    const res = await internetGatewayKind(env()).create({ vpcId: "vpc-1" }, ctx);

    expect(res).toEqual({ id: "igw-2", out: { internetGatewayId: "igw-2", vpcId: "vpc-1" } });
    expect(ec2Mock.commandCalls(DetachInternetGatewayCommand).map((c) => c.args[0].input)).toEqual([{ InternetGatewayId: "igw-1", VpcId: "vpc-1" }]);
    expect(ec2Mock.commandCalls(DeleteInternetGatewayCommand).map((c) => c.args[0].input)).toEqual([{ InternetGatewayId: "igw-1" }]);
    expect(ec2Mock.commandCalls(AttachInternetGatewayCommand).map((c) => c.args[0].input.InternetGatewayId)).toEqual(["igw-2"]);
    expect(warned).toEqual([expect.stringMatching(/^deleted duplicate aws\.ec2\.internet-gateway igw-1: /)]);
  });

  it("a create answered at its first attempt lists nothing: the normal path costs no call", async () => {
    ec2Mock.on(CreateVpcCommand).resolves({ Vpc: { VpcId: "vpc-1", State: "available" }, ...tried(1) });
    ec2Mock.on(AllocateAddressCommand).resolves({ AllocationId: "eipalloc-1", PublicIp: "198.51.100.7" }); // no attempts: as a mock without middleware
    ec2Mock.on(AssociateAddressCommand).resolves({ AssociationId: "eipassoc-1" });
    const { ctx, warned } = recording("vpc");
    await vpcKind(env()).create({ cidr: "10.42.0.0/16" }, ctx);
    await elasticIpKind(env()).create({ instanceId: "i-1" }, { ...ctx, tags: { ...ours, key: "eip" } });
    expect(ec2Mock.commandCalls(DescribeVpcsCommand)).toHaveLength(0);
    expect(ec2Mock.commandCalls(DescribeAddressesCommand)).toHaveLength(0);
    expect(warned).toEqual([]);
  });

  it("a retried create with no duplicate deletes nothing and warns of nothing", async () => {
    ec2Mock.on(AllocateAddressCommand).resolves({ AllocationId: "eipalloc-1", PublicIp: "198.51.100.7", ...tried(2) });
    ec2Mock.on(DescribeAddressesCommand).resolves({ Addresses: [{ AllocationId: "eipalloc-1" }] });
    ec2Mock.on(AssociateAddressCommand).resolves({ AssociationId: "eipassoc-1" });
    const { ctx, warned } = recording("eip");
    await elasticIpKind(env()).create({ instanceId: "i-1" }, ctx);
    expect(ec2Mock.commandCalls(DescribeAddressesCommand)).toHaveLength(1);
    expect(ec2Mock.commandCalls(ReleaseAddressCommand)).toHaveLength(0);
    expect(warned).toEqual([]);
  });

  it("a duplicate that cannot be deleted is named in a warning, and the create still succeeds", async () => {
    ec2Mock.on(AllocateAddressCommand).resolves({ AllocationId: "eipalloc-2", PublicIp: "198.51.100.8", ...tried(2) });
    ec2Mock.on(DescribeAddressesCommand, { Filters: tagFilters({ ...ours, key: "eip" }) }).resolves({ Addresses: [{ AllocationId: "eipalloc-1" }, { AllocationId: "eipalloc-2" }] });
    ec2Mock.on(DescribeAddressesCommand, { AllocationIds: ["eipalloc-1"] }).resolves({ Addresses: [{ AllocationId: "eipalloc-1" }] });
    ec2Mock.on(ReleaseAddressCommand).rejects(ec2Error("UnauthorizedOperation", "You are not authorized to perform this operation."));
    ec2Mock.on(AssociateAddressCommand).resolves({ AssociationId: "eipassoc-2" });
    const { ctx, warned } = recording("eip");
    await expect(elasticIpKind(env()).create({ instanceId: "i-1" }, ctx)).resolves.toMatchObject({ id: "eipalloc-2" });
    expect(warned).toEqual([expect.stringMatching(/aws\.ec2\.elastic-ip eipalloc-1 is a duplicate .* deleting it failed: .*UnauthorizedOperation.*`pilot status` lists it/)]);
  });

  it("a listing that never shows the new resource ends the check with a warning, not a failed create", async () => {
    ec2Mock.on(CreateInternetGatewayCommand).resolves({ InternetGateway: { InternetGatewayId: "igw-2" }, ...tried(2) });
    ec2Mock.on(DescribeInternetGatewaysCommand).resolves({ InternetGateways: [] });
    ec2Mock.on(AttachInternetGatewayCommand).resolves({});
    const { ctx, warned } = recording("igw");
    await expect(internetGatewayKind(env()).create({ vpcId: "vpc-1" }, ctx)).resolves.toMatchObject({ id: "igw-2" });
    expect(ec2Mock.commandCalls(DeleteInternetGatewayCommand)).toHaveLength(0);
    expect(warned).toEqual([expect.stringMatching(/check for a duplicate it may have left failed .*`pilot status` lists/)]);
  });

  it("attemptsOf reads the retry middleware's count, 1 when absent", () => {
    expect(attemptsOf({ $metadata: { attempts: 4 } })).toBe(4);
    expect(attemptsOf({ $metadata: {} })).toBe(1);
    expect(attemptsOf(undefined)).toBe(1);
  });
});

describe("a create the cloud refuses to repeat: adopt what the lost answer made", () => {
  it("security group: InvalidGroup.Duplicate on a retried create adopts our group of that name and authorizes its rules", async () => {
    ec2Mock.on(CreateSecurityGroupCommand).rejects(ec2Error("InvalidGroup.Duplicate", "The security group 'pilot-t-sg' already exists"));
    ec2Mock.on(DescribeSecurityGroupsCommand).resolves({ SecurityGroups: [{ GroupId: "sg-1", VpcId: "vpc-1", GroupName: "pilot-t-sg", Tags: stackTagList({ ...ours, key: "sg-server" }) }] });
    ec2Mock.on(AuthorizeSecurityGroupIngressCommand).resolves({});
    const spec = { vpcId: "vpc-1", name: "pilot-t-sg", description: "d", ingress: [{ port: 22, cidrs: ["203.0.113.4/32"] }] };
    const res = await securityGroupKind(env()).create(spec, recording("sg-server").ctx);
    expect(res).toEqual({ id: "sg-1", out: { groupId: "sg-1", vpcId: "vpc-1", ingress: ["tcp:22:cidr:203.0.113.4/32"], egress: ["-1:all:cidr:0.0.0.0/0"] } });
    expect(ec2Mock.commandCalls(DescribeSecurityGroupsCommand)[0].args[0].input.Filters).toEqual([
      { Name: "vpc-id", Values: ["vpc-1"] },
      { Name: "group-name", Values: ["pilot-t-sg"] },
    ]);
    expect(ec2Mock.commandCalls(AuthorizeSecurityGroupIngressCommand)).toHaveLength(1);
  });

  it("security group: someone else's group of that name is refused and left alone", async () => {
    ec2Mock.on(CreateSecurityGroupCommand).rejects(ec2Error("InvalidGroup.Duplicate"));
    ec2Mock.on(DescribeSecurityGroupsCommand).resolves({ SecurityGroups: [{ GroupId: "sg-9", VpcId: "vpc-1", Tags: stackTagList({ ...theirs, key: "sg-server" }) }] });
    const spec = { vpcId: "vpc-1", name: "pilot-t-sg", description: "d", ingress: [{ port: 22, cidrs: ["203.0.113.4/32"] }] };
    const err = await securityGroupKind(env()).create(spec, recording("sg-server").ctx).catch((e) => e);
    expect(err.message).toBe('create aws.ec2.security-group "sg-server" in us-east-1: a security group named pilot-t-sg in vpc-1 already exists and does not belong to this stack.');
    expect(ec2Mock.commandCalls(AuthorizeSecurityGroupIngressCommand)).toHaveLength(0);
  });

  it("subnet: InvalidSubnet.Conflict on a retried create adopts our subnet with that range", async () => {
    ec2Mock.on(DescribeAvailabilityZonesCommand).resolves({ AvailabilityZones: [{ ZoneName: "us-east-1a" }, { ZoneName: "us-east-1b" }] });
    ec2Mock.on(CreateSubnetCommand).rejects(ec2Error("InvalidSubnet.Conflict", "The CIDR '10.42.10.0/24' conflicts with another subnet"));
    ec2Mock.on(DescribeSubnetsCommand).resolves({
      Subnets: [{ SubnetId: "subnet-1", VpcId: "vpc-1", CidrBlock: "10.42.10.0/24", AvailabilityZone: "us-east-1a", Tags: stackTagList({ ...ours, key: "subnet-private-a" }) }],
    });
    const res = await subnetKind(env()).create({ vpcId: "vpc-1", cidr: "10.42.10.0/24", zoneIndex: 0 }, recording("subnet-private-a").ctx);
    expect(res).toEqual({ id: "subnet-1", out: { subnetId: "subnet-1", vpcId: "vpc-1", cidr: "10.42.10.0/24", availabilityZone: "us-east-1a", zoneIndex: 0 } });
  });

  it("route table: RouteAlreadyExists on a retried CreateRoute points the route at our gateway", async () => {
    ec2Mock.on(CreateRouteTableCommand).resolves({ RouteTable: { RouteTableId: "rtb-1", VpcId: "vpc-1", Routes: [], Associations: [] } });
    ec2Mock.on(DescribeRouteTablesCommand).resolves({ RouteTables: [{ RouteTableId: "rtb-1", VpcId: "vpc-1", Routes: [], Associations: [] }] });
    ec2Mock.on(CreateRouteCommand).rejects(ec2Error("RouteAlreadyExists", "The route identified by 0.0.0.0/0 already exists"));
    ec2Mock.on(ReplaceRouteCommand).resolves({});
    const res = await routeTableKind(env()).create({ vpcId: "vpc-1", internetGatewayId: "igw-1", subnetIds: [] }, recording("route-public").ctx);
    expect(res.out).toMatchObject({ routeTableId: "rtb-1", defaultGatewayId: "igw-1" });
    expect(ec2Mock.commandCalls(ReplaceRouteCommand).map((c) => c.args[0].input)).toEqual([{ RouteTableId: "rtb-1", DestinationCidrBlock: "0.0.0.0/0", GatewayId: "igw-1" }]);
  });

  it("instance profile: an AddRoleToInstanceProfile that ends in a network error is done when the profile holds the role", async () => {
    iamMock.on(CreateInstanceProfileCommand).resolves({ InstanceProfile: { InstanceProfileName: "p", Arn: "arn:p", Roles: [] } as never });
    iamMock.on(AddRoleToInstanceProfileCommand).rejects(Object.assign(new Error("socket hang up"), { name: "TimeoutError", code: "ECONNRESET" }));
    iamMock.on(GetInstanceProfileCommand).resolves({ InstanceProfile: { InstanceProfileName: "p", Arn: "arn:p", Roles: [{ RoleName: "r" }] } as never });
    await expect(instanceProfileKind(env()).create({ name: "p", roleName: "r" }, recording("profile-server").ctx)).resolves.toEqual({
      id: "p",
      out: { name: "p", arn: "arn:p", roleName: "r" },
    });
    // Without the role there, the error stands.
    iamMock.on(GetInstanceProfileCommand).resolves({ InstanceProfile: { InstanceProfileName: "p", Arn: "arn:p", Roles: [] } as never });
    await expect(instanceProfileKind(env()).create({ name: "p", roleName: "r" }, recording("profile-server").ctx)).rejects.toThrow(/socket hang up/);
  });
});

describe("SDK clients: a lost answer is retried, never waited on forever", () => {
  it("every client times an attempt out after REQUEST_HANDLER.requestTimeout, as an error the standard retry mode retries", async () => {
    const clients = createAwsClients("us-east-1");
    try {
      for (const client of [clients.ec2, clients.iam, clients.rds, clients.sts]) {
        const handler = client.config.requestHandler as unknown as { configProvider: Promise<Record<string, unknown>> };
        expect(await handler.configProvider).toMatchObject({ requestTimeout: 60_000, throwOnRequestTimeout: true, connectionTimeout: 10_000 });
        expect(await client.config.maxAttempts()).toBe(5);
      }
      expect(REQUEST_HANDLER.requestTimeout).toBe(60_000);
    } finally {
      destroyAwsClients(clients);
    }
  });
});

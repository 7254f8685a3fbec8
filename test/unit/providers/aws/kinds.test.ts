import {
  AllocateAddressCommand,
  AssociateAddressCommand,
  AttachInternetGatewayCommand,
  AuthorizeSecurityGroupIngressCommand,
  CreateInternetGatewayCommand,
  CreateRouteCommand,
  CreateRouteTableCommand,
  CreateSecurityGroupCommand,
  CreateVpcCommand,
  DeleteKeyPairCommand,
  DescribeImagesCommand,
  DescribeInstancesCommand,
  DescribeKeyPairsCommand,
  DescribeVpcsCommand,
  EC2Client,
  ImportKeyPairCommand,
  RunInstancesCommand,
  StartInstancesCommand,
  TerminateInstancesCommand,
  AssociateRouteTableCommand,
} from "@aws-sdk/client-ec2";
import {
  AddRoleToInstanceProfileCommand,
  CreateInstanceProfileCommand,
  CreateRoleCommand,
  DeleteRoleCommand,
  EntityAlreadyExistsException,
  GetInstanceProfileCommand,
  GetRoleCommand,
  IAMClient,
  NoSuchEntityException,
  PutRolePolicyCommand,
  TagRoleCommand,
} from "@aws-sdk/client-iam";
import {
  CreateDBInstanceCommand,
  CreateDBSubnetGroupCommand,
  DBInstanceAlreadyExistsFault,
  DBSubnetGroupAlreadyExistsFault,
  DeleteDBInstanceCommand,
  DescribeDBInstancesCommand,
  DescribeDBSubnetGroupsCommand,
  RDSClient,
} from "@aws-sdk/client-rds";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, describe, expect, it } from "vitest";
import { PilotError } from "../../../../src/errors.js";
import { dbInstanceKind } from "../../../../src/providers/aws/db-instance.js";
import { dbSubnetGroupKind } from "../../../../src/providers/aws/db-subnet-group.js";
import { elasticIpKind } from "../../../../src/providers/aws/elastic-ip.js";
import { iamRoleKind } from "../../../../src/providers/aws/iam-role.js";
import { instanceProfileKind } from "../../../../src/providers/aws/instance-profile.js";
import { instanceKind } from "../../../../src/providers/aws/instance.js";
import { internetGatewayKind } from "../../../../src/providers/aws/internet-gateway.js";
import { keyPairKind } from "../../../../src/providers/aws/key-pair.js";
import { routeTableKind } from "../../../../src/providers/aws/route-table.js";
import { securityGroupKind } from "../../../../src/providers/aws/security-group.js";
import { stackTagList } from "../../../../src/providers/aws/shared.js";
import { vpcKind } from "../../../../src/providers/aws/vpc.js";
import { Secret } from "../../../../src/secret.js";
import { ec2Error, kindEnv, OURS, THEIRS } from "./kind-env.js";

const ours = OURS;
const theirs = THEIRS;
const noProgress = { progress: () => undefined };
const ctx = (key: string) => ({ token: "tok", tags: { ...ours, key }, ...noProgress });

const noSuchEntity = () => new NoSuchEntityException({ message: "not found", $metadata: {} });

const ec2Mock = mockClient(EC2Client);
const iamMock = mockClient(IAMClient);
const rdsMock = mockClient(RDSClient);
afterEach(() => {
  ec2Mock.reset();
  iamMock.reset();
  rdsMock.reset();
});

const region = "us-east-1";
/** pollScale 0: no sleeping; the clock moves a second per read, so every bounded retry ends. */
const env = () => kindEnv({ region });

describe("just created, not visible yet: a not-found right after the create is retried", () => {
  it("instance: DescribeInstances answering InvalidInstanceID.NotFound after RunInstances is not 'terminated'", async () => {
    ec2Mock.on(DescribeImagesCommand).resolves({ Images: [{ ImageId: "ami-1", RootDeviceName: "/dev/sda1" }] });
    ec2Mock.on(RunInstancesCommand).resolves({ Instances: [{ InstanceId: "i-1", State: { Name: "pending" } }] });
    ec2Mock
      .on(DescribeInstancesCommand)
      .rejectsOnce(ec2Error("InvalidInstanceID.NotFound", "The instance ID 'i-1' does not exist"))
      .rejectsOnce(ec2Error("InvalidInstanceID.NotFound", "The instance ID 'i-1' does not exist"))
      .resolvesOnce({ Reservations: [{ Instances: [{ InstanceId: "i-1", State: { Name: "pending" } }] }] })
      .resolves({
        Reservations: [
          { Instances: [{ InstanceId: "i-1", InstanceType: "t3.small", ImageId: "ami-1", SubnetId: "subnet-1", State: { Name: "running" }, SecurityGroups: [{ GroupId: "sg-1" }] }] },
        ],
      });
    const spec = { instanceType: "t3.small", ami: "ami-1", subnetId: "subnet-1", securityGroupIds: ["sg-1"], keyName: "k", instanceProfileName: "p", rootVolumeGb: 30 };
    const said: string[] = [];
    const res = await instanceKind(env()).create(spec, { ...ctx("server"), progress: (m) => said.push(m) });
    expect(res).toMatchObject({ id: "i-1", out: { state: "running", securityGroupIds: ["sg-1"] } });
    expect(ec2Mock.commandCalls(DescribeInstancesCommand)).toHaveLength(4);
    expect(said.map((m) => m.replace(/ \(.*\)$/, ""))).toEqual(["pending", "running"]);
  });

  it("instance: an instance that is not just created and has vanished still reads as terminated", async () => {
    ec2Mock.on(DescribeInstancesCommand).rejects(ec2Error("InvalidInstanceID.NotFound"));
    ec2Mock.on(StartInstancesCommand).resolves({});
    const out = { instanceId: "i-1", instanceType: "t3.small", imageId: "ami-1", state: "stopped", subnetId: "subnet-1", securityGroupIds: ["sg-1"] };
    const spec = { instanceType: "t3.small", subnetId: "subnet-1", securityGroupIds: ["sg-1"], keyName: "k", instanceProfileName: "p", rootVolumeGb: 30 };
    await expect(instanceKind(env()).update!("i-1", spec, out)).rejects.toThrow(/instance i-1 stopped while starting: terminated/);
    // And a delete takes it as done, one describe.
    ec2Mock.on(TerminateInstancesCommand).resolves({});
    ec2Mock.resetHistory();
    await expect(instanceKind(env()).delete("i-1", undefined, { tags: ours, ...noProgress })).resolves.toBeUndefined();
    expect(ec2Mock.commandCalls(DescribeInstancesCommand)).toHaveLength(1);
  });

  it("security group: AuthorizeSecurityGroupIngress answering InvalidGroup.NotFound after CreateSecurityGroup", async () => {
    ec2Mock.on(CreateSecurityGroupCommand).resolves({ GroupId: "sg-1" });
    ec2Mock.on(AuthorizeSecurityGroupIngressCommand).rejectsOnce(ec2Error("InvalidGroup.NotFound", "The security group 'sg-1' does not exist")).resolves({});
    const spec = { vpcId: "vpc-1", name: "pilot-t-sg", description: "d", ingress: [{ port: 22, cidrs: ["203.0.113.4/32"] }] };
    const res = await securityGroupKind(env()).create(spec, ctx("sg-server"));
    expect(res).toEqual({ id: "sg-1", out: { groupId: "sg-1", vpcId: "vpc-1", ingress: ["tcp:22:cidr:203.0.113.4/32"], egress: ["-1:all:cidr:0.0.0.0/0"] } });
    expect(ec2Mock.commandCalls(AuthorizeSecurityGroupIngressCommand)).toHaveLength(2);
  });

  it("security group: a not-found that never clears fails after the bound with AWS's own message", async () => {
    ec2Mock.on(CreateSecurityGroupCommand).resolves({ GroupId: "sg-1" });
    ec2Mock.on(AuthorizeSecurityGroupIngressCommand).rejects(ec2Error("InvalidGroup.NotFound", "The security group 'sg-9' does not exist"));
    const spec = { vpcId: "vpc-1", name: "pilot-t-sg", description: "d", ingress: [{ port: 5432, sourceGroupIds: ["sg-9"] }] };
    const err = await securityGroupKind(env()).create(spec, ctx("sg-db")).catch((e) => e);
    expect(err).toBeInstanceOf(PilotError);
    expect(err.message).toBe(`create aws.ec2.security-group "sg-db" in us-east-1: InvalidGroup.NotFound: The security group 'sg-9' does not exist`);
    const calls = ec2Mock.commandCalls(AuthorizeSecurityGroupIngressCommand).length;
    expect(calls).toBeGreaterThan(1);
    expect(calls).toBeLessThan(100);
  });

  it("elastic IP: AssociateAddress answering InvalidAllocationID.NotFound after AllocateAddress", async () => {
    ec2Mock.on(AllocateAddressCommand).resolves({ AllocationId: "eipalloc-1", PublicIp: "198.51.100.7" });
    ec2Mock.on(AssociateAddressCommand).rejectsOnce(ec2Error("InvalidAllocationID.NotFound")).resolves({ AssociationId: "eipassoc-1" });
    const res = await elasticIpKind(env()).create({ instanceId: "i-1" }, ctx("eip"));
    expect(res.out).toEqual({ allocationId: "eipalloc-1", publicIp: "198.51.100.7", instanceId: "i-1", associationId: "eipassoc-1" });
    expect(ec2Mock.commandCalls(AssociateAddressCommand)).toHaveLength(2);
  });

  it("internet gateway: AttachInternetGateway answering InvalidInternetGatewayID.NotFound after the create", async () => {
    ec2Mock.on(CreateInternetGatewayCommand).resolves({ InternetGateway: { InternetGatewayId: "igw-1" } });
    ec2Mock.on(AttachInternetGatewayCommand).rejectsOnce(ec2Error("InvalidInternetGatewayID.NotFound")).resolves({});
    const res = await internetGatewayKind(env()).create({ vpcId: "vpc-1" }, ctx("igw"));
    expect(res.out).toEqual({ internetGatewayId: "igw-1", vpcId: "vpc-1" });
    expect(ec2Mock.commandCalls(AttachInternetGatewayCommand)).toHaveLength(2);
  });

  it("route table: CreateRoute answering InvalidRouteTableID.NotFound after the create", async () => {
    ec2Mock.on(CreateRouteTableCommand).resolves({ RouteTable: { RouteTableId: "rtb-1", VpcId: "vpc-1", Routes: [], Associations: [] } });
    ec2Mock.on(CreateRouteCommand).rejectsOnce(ec2Error("InvalidRouteTableID.NotFound")).resolves({});
    ec2Mock.on(AssociateRouteTableCommand).resolves({ AssociationId: "rtbassoc-1" });
    const res = await routeTableKind(env()).create({ vpcId: "vpc-1", internetGatewayId: "igw-1", subnetIds: ["subnet-b", "subnet-a"] }, ctx("rt"));
    expect(res.out).toEqual({ routeTableId: "rtb-1", vpcId: "vpc-1", defaultGatewayId: "igw-1", subnetIds: ["subnet-a", "subnet-b"] });
    expect(ec2Mock.commandCalls(CreateRouteCommand)).toHaveLength(2);
    expect(ec2Mock.commandCalls(AssociateRouteTableCommand)).toHaveLength(2);
  });

  it("VPC: a pending VPC that is not listed yet is waited for, not an error", async () => {
    ec2Mock.on(CreateVpcCommand).resolves({ Vpc: { VpcId: "vpc-1", CidrBlock: "10.42.0.0/16", State: "pending" } });
    ec2Mock
      .on(DescribeVpcsCommand)
      .rejectsOnce(ec2Error("InvalidVpcID.NotFound"))
      .resolves({ Vpcs: [{ VpcId: "vpc-1", CidrBlock: "10.42.0.0/16", State: "available" }] });
    const said: string[] = [];
    const res = await vpcKind(env()).create({ cidr: "10.42.0.0/16" }, { ...ctx("vpc"), progress: (m) => said.push(m) });
    expect(res).toEqual({ id: "vpc-1", out: { vpcId: "vpc-1", cidr: "10.42.0.0/16" } });
    expect(said.map((m) => m.replace(/ \(.*\)$/, ""))).toEqual(["not visible yet", "available"]);
  });

  it("IAM role: PutRolePolicy answering NoSuchEntity right after CreateRole", async () => {
    iamMock.on(CreateRoleCommand).resolves({ Role: { RoleName: "r", Arn: "arn:aws:iam::1:role/r" } as never });
    iamMock.on(PutRolePolicyCommand).rejectsOnce(noSuchEntity()).resolves({});
    iamMock.on(TagRoleCommand).resolves({});
    const res = await iamRoleKind(env()).create(roleSpec, ctx("role-server"));
    expect(res.out).toMatchObject({ roleName: "pilot-t-11111111-server", arn: "arn:aws:iam::1:role/r" });
    expect(iamMock.commandCalls(PutRolePolicyCommand)).toHaveLength(2);
  });

  it("instance profile: AddRoleToInstanceProfile answering NoSuchEntity right after the create", async () => {
    iamMock.on(CreateInstanceProfileCommand).resolves({ InstanceProfile: { InstanceProfileName: "p", Arn: "arn:p", Roles: [] } as never });
    iamMock.on(AddRoleToInstanceProfileCommand).rejectsOnce(noSuchEntity()).resolves({});
    const res = await instanceProfileKind(env()).create({ name: "p", roleName: "r" }, ctx("profile-server"));
    expect(res.out).toEqual({ name: "p", arn: "arn:p", roleName: "r" });
    expect(iamMock.commandCalls(AddRoleToInstanceProfileCommand)).toHaveLength(2);
  });

  it("database: DescribeDBInstances answering DBInstanceNotFound right after the create is not 'disappeared'", async () => {
    rdsMock.on(CreateDBInstanceCommand).resolves({});
    rdsMock
      .on(DescribeDBInstancesCommand)
      .rejectsOnce(Object.assign(new Error("not found"), { name: "DBInstanceNotFoundFault" }))
      .resolves({ DBInstances: [{ DBInstanceIdentifier: "x", DBInstanceStatus: "available", DBInstanceClass: "db.t4g.micro" }] });
    const res = await dbInstanceKind(env(), { skipFinalSnapshot: true }).create(dbSpec, ctx("db"));
    expect(res.out).toMatchObject({ status: "available" });
    expect(rdsMock.commandCalls(DescribeDBInstancesCommand)).toHaveLength(2);
  });
});

const roleSpec = {
  name: "pilot-t-11111111-server",
  description: "d",
  assumeRolePolicy: "{}",
  policyName: "pilot-waypoint-runner",
  policyDocument: '{"Version":"2012-10-17"}',
};
const dbSpec = {
  identifierPrefix: "pilot-t",
  instanceClass: "db.t4g.micro",
  subnetGroupName: "pilot-t-db",
  securityGroupIds: ["sg-1"],
  allocatedStorageGb: 20,
  password: new Secret("p4ssw0rdp4ssw0rdp4ssw0rdp4ssw0rd"),
};

describe("already exists: adopt ours, refuse someone else's", () => {
  const roleExists = () => new EntityAlreadyExistsException({ message: "Role with name pilot-t-11111111-server already exists.", $metadata: {} });

  it("IAM role: adopts ours (same lineage) and writes its policy", async () => {
    iamMock.on(CreateRoleCommand).rejects(roleExists());
    iamMock.on(GetRoleCommand).resolves({ Role: { RoleName: roleSpec.name, Arn: "arn:aws:iam::1:role/ours", Tags: stackTagList({ ...ours, key: "role-server" }) } as never });
    iamMock.on(PutRolePolicyCommand).resolves({});
    iamMock.on(TagRoleCommand).resolves({});
    const res = await iamRoleKind(env()).create(roleSpec, ctx("role-server"));
    expect(res).toMatchObject({ id: roleSpec.name, out: { roleName: roleSpec.name, arn: "arn:aws:iam::1:role/ours" } });
    expect(iamMock.commandCalls(PutRolePolicyCommand)).toHaveLength(1);
  });

  it("IAM role: refuses someone else's with a clear message and never touches it", async () => {
    iamMock.on(CreateRoleCommand).rejects(roleExists());
    iamMock.on(GetRoleCommand).resolves({ Role: { RoleName: roleSpec.name, Arn: "arn:aws:iam::1:role/theirs", Tags: stackTagList({ ...theirs, key: "role-server" }) } as never });
    const err = await iamRoleKind(env()).create(roleSpec, ctx("role-server")).catch((e) => e);
    expect(err).toBeInstanceOf(PilotError);
    expect(err.message).toBe(
      'create aws.iam.role "role-server" in us-east-1: an IAM role named pilot-t-11111111-server already exists and does not belong to this stack.',
    );
    expect(err.hint).toBe("Delete or rename that role, or use another --name for this stack.");
    expect(iamMock.commandCalls(PutRolePolicyCommand)).toHaveLength(0);
    expect(iamMock.commandCalls(TagRoleCommand)).toHaveLength(0);
    expect(iamMock.commandCalls(DeleteRoleCommand)).toHaveLength(0);
  });

  it("instance profile: adopts ours, refuses someone else's", async () => {
    const exists = () => new EntityAlreadyExistsException({ message: "exists", $metadata: {} });
    iamMock.on(CreateInstanceProfileCommand).rejects(exists());
    iamMock.on(GetInstanceProfileCommand).resolves({ InstanceProfile: { InstanceProfileName: "p", Arn: "arn:p", Roles: [{ RoleName: "r" }], Tags: stackTagList(ours) } as never });
    const kind = instanceProfileKind(env());
    await expect(kind.create({ name: "p", roleName: "r" }, ctx("profile-server"))).resolves.toEqual({ id: "p", out: { name: "p", arn: "arn:p", roleName: "r" } });
    expect(iamMock.commandCalls(AddRoleToInstanceProfileCommand)).toHaveLength(0); // already holds the role

    iamMock.on(GetInstanceProfileCommand).resolves({ InstanceProfile: { InstanceProfileName: "p", Arn: "arn:p", Roles: [], Tags: stackTagList(theirs) } as never });
    const err = await kind.create({ name: "p", roleName: "r" }, ctx("profile-server")).catch((e) => e);
    expect(err.message).toBe('create aws.iam.instance-profile "profile-server" in us-east-1: an instance profile named p already exists and does not belong to this stack.');
    expect(err.hint).toBe("Delete that instance profile, or use another --name for this stack.");
    expect(iamMock.commandCalls(AddRoleToInstanceProfileCommand)).toHaveLength(0);
  });

  it("key pair: adopts ours on InvalidKeyPair.Duplicate, refuses someone else's", async () => {
    const spec = { name: "pilot-t-11111111-ssh", publicKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB pilot-t" };
    ec2Mock.on(ImportKeyPairCommand).rejects(ec2Error("InvalidKeyPair.Duplicate", "The keypair already exists"));
    ec2Mock.on(DescribeKeyPairsCommand).resolves({
      KeyPairs: [{ KeyName: spec.name, KeyPairId: "key-1", Tags: [...stackTagList({ ...ours, key: "key-pair" }), { Key: "pilot:public-key-sha256", Value: "abc" }] }],
    });
    const kind = keyPairKind(env());
    await expect(kind.create(spec, ctx("key-pair"))).resolves.toEqual({ id: spec.name, out: { keyPairId: "key-1", keyName: spec.name, publicKeyHash: "abc" } });

    ec2Mock.on(DescribeKeyPairsCommand).resolves({ KeyPairs: [{ KeyName: spec.name, KeyPairId: "key-2", Tags: stackTagList({ ...theirs, key: "key-pair" }) }] });
    const err = await kind.create(spec, ctx("key-pair")).catch((e) => e);
    expect(err.message).toBe(`create aws.ec2.key-pair "key-pair" in us-east-1: a key pair named ${spec.name} already exists and does not belong to this stack.`);
    expect(err.hint).toBe("Delete that key pair, or use another --name for this stack.");
    expect(ec2Mock.commandCalls(DeleteKeyPairCommand)).toHaveLength(0);
  });

  it("DB subnet group: adopts the same-named group (its name carries the lineage)", async () => {
    rdsMock.on(CreateDBSubnetGroupCommand).rejects(new DBSubnetGroupAlreadyExistsFault({ message: "exists", $metadata: {} }));
    rdsMock.on(DescribeDBSubnetGroupsCommand).resolves({
      DBSubnetGroups: [{ DBSubnetGroupName: "pilot-t-db", DBSubnetGroupArn: "arn:g", Subnets: [{ SubnetIdentifier: "subnet-b" }, { SubnetIdentifier: "subnet-a" }] }],
    });
    const res = await dbSubnetGroupKind(env()).create({ name: "pilot-t-db", description: "d", subnetIds: ["subnet-a", "subnet-b"] }, ctx("db-subnet-group"));
    expect(res).toEqual({ id: "pilot-t-db", out: { name: "pilot-t-db", arn: "arn:g", subnetIds: ["subnet-a", "subnet-b"] } });
  });

  it("database: adopts ours and waits for it, refuses someone else's without deleting it", async () => {
    rdsMock.on(CreateDBInstanceCommand).rejects(new DBInstanceAlreadyExistsFault({ message: "DB instance already exists", $metadata: {} }));
    rdsMock.on(DescribeDBInstancesCommand).resolves({
      DBInstances: [{ DBInstanceIdentifier: "x", DBInstanceStatus: "available", DBInstanceClass: "db.t4g.micro", TagList: stackTagList({ ...ours, key: "db" }) }],
    });
    const kind = dbInstanceKind(env(), { skipFinalSnapshot: true });
    await expect(kind.create(dbSpec, ctx("db"))).resolves.toMatchObject({ out: { status: "available" } });

    rdsMock.on(DescribeDBInstancesCommand).resolves({ DBInstances: [{ DBInstanceIdentifier: "x", DBInstanceStatus: "available", TagList: stackTagList({ ...theirs, key: "db" }) }] });
    const err = await kind.create(dbSpec, ctx("db")).catch((e) => e);
    expect(err).toBeInstanceOf(PilotError);
    expect(err.message).toMatch(
      /^create aws\.rds\.instance "db" in us-east-1 \((pilot-t-[0-9a-f]{8})\): a database named \1 already exists and does not belong to this stack\.$/,
    );
    expect(rdsMock.commandCalls(DeleteDBInstanceCommand)).toHaveLength(0);
  });
});

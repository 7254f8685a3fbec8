import { DescribeVpcsCommand, EC2Client } from "@aws-sdk/client-ec2";
import { CreateDBInstanceCommand, DBSubnetGroupNotFoundFault, DeleteDBInstanceCommand, DescribeDBInstancesCommand, RDSClient } from "@aws-sdk/client-rds";
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { IAMClient } from "@aws-sdk/client-iam";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, describe, expect, it } from "vitest";
import { PilotError } from "../../../../src/errors.js";
import { type AwsClients } from "../../../../src/providers/aws/clients.js";
import { dbInstanceKind } from "../../../../src/providers/aws/db-instance.js";
import { createAwsProvider } from "../../../../src/providers/aws/provider.js";
import { vpcKind } from "../../../../src/providers/aws/vpc.js";
import { Secret } from "../../../../src/secret.js";

const tags = { stack: "t", stackId: "11111111-2222-3333-4444-555555555555", key: "db" };
const noProgress = { progress: () => undefined };

function clientsWith(over: Partial<AwsClients>): AwsClients {
  return { ec2: new EC2Client({ region: "us-east-1" }), rds: new RDSClient({ region: "us-east-1" }), iam: new IAMClient({ region: "us-east-1" }), sts: new STSClient({ region: "us-east-1" }), ...over };
}

describe("errors and waits (aws-sdk-client-mock)", () => {
  const rdsMock = mockClient(RDSClient);
  const ec2Mock = mockClient(EC2Client);
  const stsMock = mockClient(STSClient);
  afterEach(() => {
    rdsMock.reset();
    ec2Mock.reset();
    stsMock.reset();
  });
  const env = () => ({ clients: clientsWith({ rds: new RDSClient({ region: "us-east-1" }), ec2: new EC2Client({ region: "us-east-1" }) }), region: "us-east-1", pollScale: 0 });
  const spec = {
    identifierPrefix: "pilot-t",
    instanceClass: "db.t4g.micro",
    subnetGroupName: "pilot-t-db",
    securityGroupIds: ["sg-1"],
    allocatedStorageGb: 20,
    password: new Secret("p4ssw0rdp4ssw0rdp4ssw0rdp4ssw0rd"),
  };

  it("surfaces an RDS fault wrapped with the action, kind, node and region", async () => {
    rdsMock.on(CreateDBInstanceCommand).rejects(new DBSubnetGroupNotFoundFault({ message: "DB subnet group pilot-t-db not found", $metadata: {} }));
    const kind = dbInstanceKind(env(), { skipFinalSnapshot: false });
    const err = await kind.create(spec, { token: "tok", tags, ...noProgress }).catch((e) => e);
    expect(err).toBeInstanceOf(PilotError);
    expect(err.message).toMatch(/^create aws\.rds\.instance "db" in us-east-1 \(pilot-t-[0-9a-f]{8}\): DBSubnetGroupNotFoundFault: DB subnet group pilot-t-db not found$/);
    expect(err.message).not.toContain("p4ssw0rd");
  });

  it("creates the database private and encrypted, reporting RDS's status while it waits", async () => {
    rdsMock.on(CreateDBInstanceCommand).resolves({});
    rdsMock
      .on(DescribeDBInstancesCommand)
      .resolvesOnce({ DBInstances: [{ DBInstanceIdentifier: "x", DBInstanceStatus: "creating" }] })
      .resolvesOnce({ DBInstances: [{ DBInstanceIdentifier: "x", DBInstanceStatus: "backing-up" }] })
      .resolves({
        DBInstances: [
          { DBInstanceIdentifier: "x", DBInstanceStatus: "available", DBInstanceClass: "db.t4g.micro", Endpoint: { Address: "x.rds", Port: 5432 }, VpcSecurityGroups: [{ VpcSecurityGroupId: "sg-1" }] },
        ],
      });
    const said: string[] = [];
    const kind = dbInstanceKind(env(), { skipFinalSnapshot: false });
    const a = await kind.create(spec, { token: "tok", tags, progress: (m) => said.push(m) });
    const b = dbInstanceKind(env(), { skipFinalSnapshot: false });
    rdsMock.on(CreateDBInstanceCommand).resolves({});
    // Same token, same identifier: a retried create cannot make a second database.
    expect((await b.create(spec, { token: "tok", tags, ...noProgress })).id).toBe(a.id);
    const input = rdsMock.commandCalls(CreateDBInstanceCommand)[0]!.args[0].input;
    expect(input).toMatchObject({ PubliclyAccessible: false, StorageEncrypted: true, Engine: "postgres", MasterUsername: "pilot", DBName: "pilot" });
    expect(said.map((m) => m.replace(/ \(.*\)$/, ""))).toEqual([`creating ${a.id}`, "creating", "backing-up", "available"]);
    expect(a.out).toMatchObject({ endpoint: "x.rds", port: 5432, status: "available" });
  });

  it("takes a final snapshot on delete unless skipFinalSnapshot, and says its name", async () => {
    rdsMock.on(DeleteDBInstanceCommand).resolves({});
    rdsMock
      .on(DescribeDBInstancesCommand)
      .resolvesOnce({ DBInstances: [{ DBInstanceIdentifier: "pilot-t-abc", DBInstanceStatus: "deleting" }] })
      .rejects(Object.assign(new Error("not found"), { name: "DBInstanceNotFoundFault" }));
    const said: string[] = [];
    await dbInstanceKind({ ...env(), now: () => Date.UTC(2025, 2, 4, 5, 6) }, { skipFinalSnapshot: false }).delete("pilot-t-abc", undefined, {
      tags,
      progress: (m) => said.push(m),
    });
    const input = rdsMock.commandCalls(DeleteDBInstanceCommand)[0]!.args[0].input;
    expect(input).toEqual({ DBInstanceIdentifier: "pilot-t-abc", SkipFinalSnapshot: false, FinalDBSnapshotIdentifier: "pilot-t-abc-final-202503040506" });
    expect(said.every((m) => m.includes("final snapshot pilot-t-abc-final-202503040506"))).toBe(true);

    rdsMock.reset();
    rdsMock.on(DeleteDBInstanceCommand).resolves({});
    rdsMock.on(DescribeDBInstancesCommand).rejects(Object.assign(new Error("not found"), { name: "DBInstanceNotFoundFault" }));
    await dbInstanceKind(env(), { skipFinalSnapshot: true }).delete("pilot-t-abc", undefined, { tags, ...noProgress });
    expect(rdsMock.commandCalls(DeleteDBInstanceCommand)[0]!.args[0].input).toMatchObject({ SkipFinalSnapshot: true, FinalDBSnapshotIdentifier: undefined });
  });

  it("treats an already-deleted database as deleted", async () => {
    rdsMock.on(DeleteDBInstanceCommand).rejects(Object.assign(new Error("gone"), { name: "DBInstanceNotFoundFault" }));
    await expect(dbInstanceKind(env(), { skipFinalSnapshot: true }).delete("pilot-t-abc", undefined, { tags, ...noProgress })).resolves.toBeUndefined();
  });

  it("classifies retryable delete errors through the wrapper", async () => {
    const provider = createAwsProvider({ stack: "t", stackDir: "/nonexistent", env: {}, emit: () => undefined }, { clients: env().clients });
    const wrapped = (name: string) => new PilotError("delete ...", { cause: Object.assign(new Error("busy"), { name }) });
    expect(provider.isRetryableDelete(wrapped("DependencyViolation"))).toBe(true);
    expect(provider.isRetryableDelete(wrapped("InvalidDBSubnetGroupStateFault"))).toBe(true);
    expect(provider.isRetryableDelete(wrapped("InvalidDBInstanceStateFault"))).toBe(true);
    expect(provider.isRetryableDelete(wrapped("AccessDenied"))).toBe(false);
    expect(provider.isRetryableDelete(new Error("plain"))).toBe(false);
  });

  it("reports missing and rejected credentials in one sentence with a hint", async () => {
    const provider = createAwsProvider({ stack: "t", stackDir: "/nonexistent", env: {}, emit: () => undefined }, { clients: env().clients });
    const settings = { region: "us-east-1", allowCidrs: ["10.0.0.0/8"], allowWorld: false, instanceType: "t3.small", dbInstanceClass: "db.t4g.micro" };
    stsMock.on(GetCallerIdentityCommand).rejectsOnce(Object.assign(new Error("Could not load credentials from any providers"), { name: "CredentialsProviderError" }));
    await expect(provider.checkCredentials(settings)).rejects.toMatchObject({ message: "No AWS credentials found.", hint: expect.stringContaining("aws configure") });
    stsMock.reset();
    stsMock.on(GetCallerIdentityCommand).rejectsOnce(Object.assign(new Error("The security token included in the request is invalid."), { name: "InvalidClientTokenId" }));
    await expect(provider.checkCredentials(settings)).rejects.toThrow("AWS rejected the credentials (InvalidClientTokenId).");
    stsMock.reset();
    stsMock.on(GetCallerIdentityCommand).resolves({ Arn: "arn:aws:iam::123456789012:user/ops", Account: "123456789012" });
    await expect(provider.checkCredentials(settings)).resolves.toBe("arn:aws:iam::123456789012:user/ops (account 123456789012)");
  });

  it("lets a VPC read treat not-found as gone, one call", async () => {
    ec2Mock.on(DescribeVpcsCommand).rejects(Object.assign(new Error("no such vpc"), { name: "InvalidVpcID.NotFound" }));
    await expect(vpcKind(env()).read("vpc-1", undefined)).resolves.toBeUndefined();
    expect(ec2Mock.calls()).toHaveLength(1);
  });
});

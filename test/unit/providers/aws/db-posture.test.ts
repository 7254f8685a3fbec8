/**
 * The database's changes and posture (issue 8, points 8 and 9), as
 * aws-sdk-client-mock sequences: moto applies a ModifyDBInstance at once and
 * never reports pending modified values, so only a mock shows RDS saying
 * "available" while the change is still to come.
 */
import { EC2Client } from "@aws-sdk/client-ec2";
import { IAMClient } from "@aws-sdk/client-iam";
import {
  CreateDBInstanceCommand,
  DeleteDBInstanceCommand,
  DescribeDBInstancesCommand,
  ModifyDBInstanceCommand,
  RDSClient,
  type DBInstance,
} from "@aws-sdk/client-rds";
import { STSClient } from "@aws-sdk/client-sts";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, describe, expect, it } from "vitest";
import type { AwsClients } from "../../../../src/providers/aws/clients.js";
import { dbInstanceKind, POSTGRES_MAJOR, type DbInstanceOut, type DbInstanceSpec } from "../../../../src/providers/aws/db-instance.js";
import { Secret } from "../../../../src/secret.js";

const rdsMock = mockClient(RDSClient);
afterEach(() => rdsMock.reset());

const region = "us-east-1";
function kind() {
  let t = 0;
  const clients: AwsClients = { ec2: new EC2Client({ region }), iam: new IAMClient({ region }), rds: new RDSClient({ region }), sts: new STSClient({ region }) };
  return dbInstanceKind({ clients, region, pollScale: 0, now: () => (t += 1_000) }, { skipFinalSnapshot: true });
}
const ctx = { tags: { stack: "t", stackId: "11111111-2222-3333-4444-555555555555", key: "db" }, progress: () => undefined };
const spec: DbInstanceSpec = { identifierPrefix: "pilot-t", instanceClass: "db.t4g.small", subnetGroupName: "g", securityGroupIds: ["sg-db"], allocatedStorageGb: 20, password: new Secret("pw") };
const db = (over: Partial<DBInstance> = {}): DBInstance => ({
  DBInstanceIdentifier: "pilot-t-1",
  DBInstanceStatus: "available",
  DBInstanceClass: "db.t4g.micro",
  VpcSecurityGroups: [{ VpcSecurityGroupId: "sg-db" }],
  Endpoint: { Address: "db.internal", Port: 5432 },
  PubliclyAccessible: false,
  StorageEncrypted: true,
  DeletionProtection: true,
  ...over,
});
const out = (over: Partial<DbInstanceOut> = {}): DbInstanceOut => ({
  identifier: "pilot-t-1",
  status: "available",
  instanceClass: "db.t4g.micro",
  securityGroupIds: ["sg-db"],
  endpoint: "db.internal",
  port: 5432,
  publiclyAccessible: false,
  storageEncrypted: true,
  deletionProtection: true,
  ...over,
});
const described = (d: DBInstance) => ({ DBInstances: [d] });

describe("database: a change is read back only once RDS has applied it", () => {
  it("'available' with pending modified values is waited through until none remain", async () => {
    rdsMock.on(ModifyDBInstanceCommand).resolves({});
    rdsMock
      .on(DescribeDBInstancesCommand)
      .resolvesOnce(described(db({ PendingModifiedValues: { DBInstanceClass: "db.t4g.small" } })))
      .resolvesOnce(described(db({ DBInstanceStatus: "modifying", PendingModifiedValues: {} })))
      .resolves(described(db({ DBInstanceClass: "db.t4g.small", PendingModifiedValues: {} })));
    const after = await kind().update!("pilot-t-1", spec, out());
    expect(after.instanceClass).toBe("db.t4g.small");
    expect(after.pending).toBeUndefined();
    expect(rdsMock.commandCalls(DescribeDBInstancesCommand)).toHaveLength(3);
    expect(rdsMock.commandCalls(ModifyDBInstanceCommand)[0]!.args[0].input).toEqual({ DBInstanceIdentifier: "pilot-t-1", DBInstanceClass: "db.t4g.small", ApplyImmediately: true });
  });

  it("a database read with changes still pending is drift that waits, not 'up to date'", () => {
    const d = kind().diff!({ ...spec, instanceClass: "db.t4g.micro" }, out({ pending: ["DBInstanceClass"] }));
    expect(d).toEqual({ result: "update", reason: "changes still pending (DBInstanceClass); waiting until they are applied" });
  });
});

describe("database: posture", () => {
  it("is created as PostgreSQL 16 (pinned, not RDS's default), encrypted, private and protected from deletion", async () => {
    rdsMock.on(CreateDBInstanceCommand).resolves({});
    rdsMock.on(DescribeDBInstancesCommand).resolves(described(db()));
    await kind().create(spec, { ...ctx, token: "tok" });
    const input = rdsMock.commandCalls(CreateDBInstanceCommand)[0]!.args[0].input;
    expect(POSTGRES_MAJOR).toBe("16");
    expect(input).toMatchObject({ Engine: "postgres", EngineVersion: "16", StorageEncrypted: true, PubliclyAccessible: false, DeletionProtection: true });
  });

  it("delete lifts deletion protection first, then deletes", async () => {
    rdsMock.on(ModifyDBInstanceCommand).resolves({});
    rdsMock.on(DeleteDBInstanceCommand).resolves({});
    rdsMock.on(DescribeDBInstancesCommand).rejects(Object.assign(new Error("gone"), { name: "DBInstanceNotFoundFault" }));
    await kind().delete("pilot-t-1", out(), ctx);
    const order = rdsMock.calls().map((c) => (c.args[0] as { constructor: { name: string } }).constructor.name);
    expect(order.slice(0, 2)).toEqual(["ModifyDBInstanceCommand", "DeleteDBInstanceCommand"]);
    expect(rdsMock.commandCalls(ModifyDBInstanceCommand)[0]!.args[0].input).toEqual({ DBInstanceIdentifier: "pilot-t-1", DeletionProtection: false, ApplyImmediately: true });
  });

  it("made public or unprotected outside Pilot is drift, repaired by one ModifyDBInstance", async () => {
    const k = kind();
    const drifted = out({ instanceClass: "db.t4g.small", publiclyAccessible: true, deletionProtection: false });
    expect(k.diff!(spec, drifted)).toEqual({ result: "update", reason: "it was made publicly accessible; deletion protection is off" });
    rdsMock.on(ModifyDBInstanceCommand).resolves({});
    rdsMock.on(DescribeDBInstancesCommand).resolves(described(db({ DBInstanceClass: "db.t4g.small" })));
    await k.update!("pilot-t-1", spec, drifted);
    expect(rdsMock.commandCalls(ModifyDBInstanceCommand)[0]!.args[0].input).toEqual({
      DBInstanceIdentifier: "pilot-t-1",
      PubliclyAccessible: false,
      DeletionProtection: true,
      ApplyImmediately: true,
    });
  });

  it("unencrypted storage is drift that says what to do; update refuses rather than pretend", async () => {
    const k = kind();
    const plain = out({ instanceClass: "db.t4g.small", storageEncrypted: false });
    expect(k.diff!(spec, plain).reason).toMatch(/not encrypted: RDS cannot encrypt it in place; take a snapshot, copy it with encryption on/);
    await expect(k.update!("pilot-t-1", spec, plain)).rejects.toThrow(/is not encrypted/);
    expect(rdsMock.commandCalls(ModifyDBInstanceCommand)).toHaveLength(0);
  });
});

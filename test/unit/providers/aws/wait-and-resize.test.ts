/**
 * Adopted resources are waited on (issue 8, point 2) and a changed instance
 * type is an in-place, disruptive update (point 4), as aws-sdk-client-mock
 * sequences: moto answers every state change at once, so it cannot show them.
 */
import {
  DescribeInstancesCommand,
  EC2Client,
  ModifyInstanceAttributeCommand,
  StartInstancesCommand,
  StopInstancesCommand,
  TerminateInstancesCommand,
  RunInstancesCommand,
  type Instance,
} from "@aws-sdk/client-ec2";
import { CreateDBInstanceCommand, DeleteDBInstanceCommand, DescribeDBInstancesCommand, ModifyDBInstanceCommand, RDSClient, StartDBInstanceCommand, type DBInstance } from "@aws-sdk/client-rds";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, describe, expect, it } from "vitest";
import { PilotError } from "../../../../src/errors.js";
import { BROKEN_DB_STATUSES, dbInstanceKind, type DbInstanceOut, type DbInstanceSpec } from "../../../../src/providers/aws/db-instance.js";
import { instanceKind, type InstanceOut, type InstanceSpec } from "../../../../src/providers/aws/instance.js";
import { Secret } from "../../../../src/secret.js";
import { kindEnv } from "./kind-env.js";

const ec2Mock = mockClient(EC2Client);
const rdsMock = mockClient(RDSClient);
afterEach(() => {
  ec2Mock.reset();
  rdsMock.reset();
});

const region = "us-east-1";
/** pollScale 0: no sleeping; the clock moves a second per read, so every bounded wait ends. */
const env = () => kindEnv({ region });

/** The order in which the mocked clients received their commands, by command name. */
function callOrder(mock: typeof ec2Mock | typeof rdsMock): string[] {
  return mock.calls().map((c) => (c.args[0] as { constructor: { name: string } }).constructor.name.replace(/Command$/, ""));
}

const spec: InstanceSpec = { instanceType: "t3.small", subnetId: "subnet-1", securityGroupIds: ["sg-1"], keyName: "k", instanceProfileName: "p", rootVolumeGb: 30 };
const instance = (state: string, type = "t3.small"): Instance => ({
  InstanceId: "i-1",
  InstanceType: type as never,
  ImageId: "ami-1",
  SubnetId: "subnet-1",
  State: { Name: state as never },
  SecurityGroups: [{ GroupId: "sg-1" }],
  PrivateIpAddress: "10.0.0.10",
});
const described = (state: string, type?: string) => ({ Reservations: [{ Instances: [instance(state, type)] }] });
const outOf = (state: string, type = "t3.small"): InstanceOut => ({
  instanceId: "i-1",
  instanceType: type,
  imageId: "ami-1",
  state,
  subnetId: "subnet-1",
  securityGroupIds: ["sg-1"],
  privateIp: "10.0.0.10",
});

describe("server instance: adopted while pending is waited on until running", () => {
  it("find() of a pending instance diffs as an update that waits; update() polls until running", async () => {
    ec2Mock
      .on(DescribeInstancesCommand)
      .resolvesOnce(described("pending")) // find
      .resolvesOnce(described("pending"))
      .resolvesOnce(described("pending"))
      .resolves(described("running"));
    const kind = instanceKind(env());
    const found = await kind.find({ stack: "t", stackId: "x", key: "server" }, spec);
    expect(found).toMatchObject({ id: "i-1", out: { state: "pending" } });

    const d = kind.diff!(spec, found!.out);
    expect(d).toEqual({ result: "update", reason: "still being created; waiting until it is running" });
    expect(d.disruptive).toBeUndefined();

    const out = await kind.update!("i-1", spec, found!.out);
    expect(out).toMatchObject({ instanceId: "i-1", state: "running", instanceType: "t3.small" });
    expect(ec2Mock.commandCalls(DescribeInstancesCommand)).toHaveLength(4);
    // Waiting only: nothing started, stopped or modified.
    expect(callOrder(ec2Mock).filter((c) => c !== "DescribeInstances")).toEqual([]);
  });

  it("a running instance of the right type is the same; a stopped one is started", () => {
    const kind = instanceKind(env());
    expect(kind.diff!(spec, outOf("running"))).toEqual({ result: "same" });
    expect(kind.diff!(spec, outOf("stopped"))).toMatchObject({ result: "update", reason: "instance is stopped" });
  });
});

describe("server instance: a changed instance type is changed in place, never replaced", () => {
  it("diff: update, disruptive, saying that it stops and starts the server", () => {
    const d = instanceKind(env()).diff!({ ...spec, instanceType: "t3.medium" }, outOf("running", "t3.small"));
    expect(d).toEqual({ result: "update", reason: "instance type t3.small → t3.medium: stops and starts the server", disruptive: true });
  });

  it("diff: an architecture change (x86_64 → Graviton) with Pilot's own image needs a new image and is a replace", () => {
    const d = instanceKind(env()).diff!({ ...spec, instanceType: "t4g.small" }, outOf("running", "t3.small"));
    expect(d.result).toBe("replace");
    expect(d.reason).toMatch(/x86_64 → arm64/);
  });

  it("update(): Stop, wait stopped, ModifyInstanceAttribute InstanceType, Start, wait running — in that order, same instance", async () => {
    ec2Mock.on(StopInstancesCommand).resolves({});
    ec2Mock.on(ModifyInstanceAttributeCommand).resolves({});
    ec2Mock.on(StartInstancesCommand).resolves({});
    ec2Mock.on(TerminateInstancesCommand).rejects(new Error("must not terminate"));
    ec2Mock.on(RunInstancesCommand).rejects(new Error("must not launch"));
    ec2Mock
      .on(DescribeInstancesCommand)
      .resolvesOnce(described("stopping"))
      .resolvesOnce(described("stopped"))
      .resolvesOnce(described("pending", "t3.medium"))
      .resolves(described("running", "t3.medium"));

    const out = await instanceKind(env()).update!("i-1", { ...spec, instanceType: "t3.medium" }, outOf("running", "t3.small"));
    expect(out).toMatchObject({ instanceId: "i-1", instanceType: "t3.medium", state: "running" });
    expect(callOrder(ec2Mock)).toEqual([
      "StopInstances",
      "DescribeInstances",
      "DescribeInstances",
      "ModifyInstanceAttribute",
      "StartInstances",
      "DescribeInstances",
      "DescribeInstances",
    ]);
    expect(ec2Mock.commandCalls(ModifyInstanceAttributeCommand)[0]!.args[0].input).toEqual({ InstanceId: "i-1", InstanceType: { Value: "t3.medium" } });
    expect(ec2Mock.commandCalls(StopInstancesCommand)[0]!.args[0].input).toEqual({ InstanceIds: ["i-1"] });
    expect(ec2Mock.commandCalls(StartInstancesCommand)[0]!.args[0].input).toEqual({ InstanceIds: ["i-1"] });
  });

  it("update() of a pending instance waits until running before it stops it (EC2 refuses to stop a pending one)", async () => {
    ec2Mock.on(StopInstancesCommand).resolves({});
    ec2Mock.on(ModifyInstanceAttributeCommand).resolves({});
    ec2Mock.on(StartInstancesCommand).resolves({});
    ec2Mock
      .on(DescribeInstancesCommand)
      .resolvesOnce(described("running"))
      .resolvesOnce(described("stopped"))
      .resolves(described("running", "t3.medium"));
    await instanceKind(env()).update!("i-1", { ...spec, instanceType: "t3.medium" }, outOf("pending", "t3.small"));
    expect(callOrder(ec2Mock)).toEqual(["DescribeInstances", "StopInstances", "DescribeInstances", "ModifyInstanceAttribute", "StartInstances", "DescribeInstances"]);
  });

  it("a type EC2 refuses leaves the server started again as it was, and says so", async () => {
    ec2Mock.on(StopInstancesCommand).resolves({});
    ec2Mock.on(ModifyInstanceAttributeCommand).rejects(Object.assign(new Error("The instance type 'x9.huge' is not supported"), { name: "InvalidInstanceAttributeValue" }));
    ec2Mock.on(StartInstancesCommand).resolves({});
    ec2Mock.on(DescribeInstancesCommand).resolves(described("stopped"));
    const err = await instanceKind(env())
      .update!("i-1", { ...spec, instanceType: "x9.huge" }, outOf("running", "t3.small"))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PilotError);
    expect((err as PilotError).message).toMatch(/not supported/);
    expect((err as PilotError).hint).toMatch(/started again as t3\.small/);
    expect(callOrder(ec2Mock)).toEqual(["StopInstances", "DescribeInstances", "ModifyInstanceAttribute", "StartInstances"]);
  });
});

const dbSpec: DbInstanceSpec = {
  identifierPrefix: "pilot-t",
  instanceClass: "db.t4g.micro",
  subnetGroupName: "g",
  securityGroupIds: ["sg-db"],
  allocatedStorageGb: 20,
  password: new Secret("p4ssword"),
};
const db = (status: string, endpoint = true): DBInstance => ({
  DBInstanceIdentifier: "pilot-t-1234abcd",
  DBInstanceStatus: status,
  DBInstanceClass: "db.t4g.micro",
  VpcSecurityGroups: [{ VpcSecurityGroupId: "sg-db" }],
  EngineVersion: "16.3",
  ...(endpoint ? { Endpoint: { Address: "pilot-t-1234abcd.abc.us-east-1.rds.amazonaws.com", Port: 5432 } } : {}),
});
const dbOut = (status: string): DbInstanceOut => ({
  identifier: "pilot-t-1234abcd",
  status,
  instanceClass: "db.t4g.micro",
  securityGroupIds: ["sg-db"],
  engineVersion: "16.3",
});

describe("database: adopted while on its way is waited on until available", () => {
  it("creating: diff says it waits, update() polls until available and records the endpoint", async () => {
    rdsMock
      .on(DescribeDBInstancesCommand)
      .resolvesOnce({ DBInstances: [db("creating", false)] })
      .resolvesOnce({ DBInstances: [db("backing-up")] })
      .resolves({ DBInstances: [db("available")] });
    const kind = dbInstanceKind(env(), { skipFinalSnapshot: true });
    expect(kind.diff!(dbSpec, dbOut("creating"))).toEqual({ result: "update", reason: "still being created; waiting until it is available" });

    const out = await kind.update!("pilot-t-1234abcd", dbSpec, dbOut("creating"));
    expect(out).toMatchObject({ status: "available", endpoint: "pilot-t-1234abcd.abc.us-east-1.rds.amazonaws.com", port: 5432 });
    expect(rdsMock.commandCalls(DescribeDBInstancesCommand)).toHaveLength(3);
    // Nothing to modify: class and groups already match.
    expect(rdsMock.commandCalls(ModifyDBInstanceCommand)).toHaveLength(0);
  });

  it.each(["backing-up", "modifying", "rebooting", "upgrading", "configuring-enhanced-monitoring"])("%s is waited on too, never 'same'", (status) => {
    const d = dbInstanceKind(env(), { skipFinalSnapshot: true }).diff!(dbSpec, dbOut(status));
    expect(d).toEqual({ result: "update", reason: `database is ${status}; waiting until it is available` });
  });

  it("available with its endpoint is the same", () => {
    const out = { ...dbOut("available"), endpoint: "h", port: 5432 };
    expect(dbInstanceKind(env(), { skipFinalSnapshot: true }).diff!(dbSpec, out)).toEqual({ result: "same" });
  });

  it("stopped outside Pilot: started, then waited on until available", async () => {
    rdsMock.on(StartDBInstanceCommand).resolves({});
    rdsMock.on(DescribeDBInstancesCommand).resolvesOnce({ DBInstances: [db("starting")] }).resolves({ DBInstances: [db("available")] });
    const kind = dbInstanceKind(env(), { skipFinalSnapshot: true });
    expect(kind.diff!(dbSpec, dbOut("stopped"))).toMatchObject({ result: "update", reason: "database is stopped; starting it" });
    const out = await kind.update!("pilot-t-1234abcd", dbSpec, dbOut("stopped"));
    expect(out.status).toBe("available");
    expect(callOrder(rdsMock)).toEqual(["StartDBInstance", "DescribeDBInstances", "DescribeDBInstances"]);
  });
});

describe("database: a broken status is drift that says what to do", () => {
  it("failed: diff reports it with its reason; update() refuses with a PilotError whose hint says what to do, touching nothing", async () => {
    const kind = dbInstanceKind(env(), { skipFinalSnapshot: true });
    const d = kind.diff!(dbSpec, dbOut("failed"));
    expect(d.result).toBe("update");
    expect(d.reason).toMatch(/^database is failed: RDS could not recover it: .*restore it from a snapshot/);

    const err = await kind.update!("pilot-t-1234abcd", dbSpec, dbOut("failed")).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PilotError);
    expect((err as PilotError).message).toMatch(/database pilot-t-1234abcd is failed\./);
    expect((err as PilotError).hint).toMatch(/RDS console/);
    expect(rdsMock.calls()).toHaveLength(0);
  });

  it.each(Object.keys(BROKEN_DB_STATUSES))("%s is drift with its own hint", async (status) => {
    const kind = dbInstanceKind(env(), { skipFinalSnapshot: true });
    const d = kind.diff!(dbSpec, dbOut(status));
    expect(d).toEqual({ result: "update", reason: `database is ${status}: ${BROKEN_DB_STATUSES[status]}` });
    await expect(kind.update!("pilot-t-1234abcd", dbSpec, dbOut(status))).rejects.toThrow(new RegExp(`is ${status}\\.`));
  });

  it("a database turning broken while waited on stops the wait with the same hint", async () => {
    rdsMock
      .on(DescribeDBInstancesCommand)
      .resolvesOnce({ DBInstances: [db("creating", false)] })
      .resolves({ DBInstances: [db("incompatible-network", false)] });
    const err = await dbInstanceKind(env(), { skipFinalSnapshot: true })
      .update!("pilot-t-1234abcd", dbSpec, dbOut("creating"))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PilotError);
    expect((err as PilotError).message).toMatch(/is incompatible-network\./);
    expect((err as PilotError).hint).toMatch(/subnet/);
  });

  it("deleted outside Pilot: drift, and update() says to wait until it is gone", async () => {
    const kind = dbInstanceKind(env(), { skipFinalSnapshot: true });
    expect(kind.diff!(dbSpec, dbOut("deleting")).reason).toMatch(/being deleted outside Pilot/);
    await expect(kind.update!("pilot-t-1234abcd", dbSpec, dbOut("deleting"))).rejects.toThrow(/being deleted outside Pilot/);
  });
});

describe("database: a changed instance class is modified in place, never replaced (a replace deletes the data)", () => {
  const available = (cls: string): DbInstanceOut => ({ ...dbOut("available"), instanceClass: cls, endpoint: "h", port: 5432 });

  it("diff: an update naming the old and new class, not a replace, asked for (the database is down while it changes)", () => {
    const d = dbInstanceKind(env(), { skipFinalSnapshot: true }).diff!({ ...dbSpec, instanceClass: "db.t4g.small" }, available("db.t4g.micro"));
    expect(d).toEqual({ result: "update", reason: "class db.t4g.micro → db.t4g.small", disruptive: true });
  });

  it("update(): ModifyDBInstance on the same database, applied immediately, then waits until available", async () => {
    rdsMock.on(ModifyDBInstanceCommand).resolves({});
    rdsMock.on(DeleteDBInstanceCommand).rejects(new Error("must not delete"));
    rdsMock.on(CreateDBInstanceCommand).rejects(new Error("must not create"));
    rdsMock
      .on(DescribeDBInstancesCommand)
      .resolvesOnce({ DBInstances: [{ ...db("modifying"), DBInstanceClass: "db.t4g.small" }] })
      .resolves({ DBInstances: [{ ...db("available"), DBInstanceClass: "db.t4g.small" }] });
    const out = await dbInstanceKind(env(), { skipFinalSnapshot: true }).update!("pilot-t-1234abcd", { ...dbSpec, instanceClass: "db.t4g.small" }, available("db.t4g.micro"));
    expect(out).toMatchObject({ identifier: "pilot-t-1234abcd", instanceClass: "db.t4g.small", status: "available" });
    expect(rdsMock.commandCalls(ModifyDBInstanceCommand).map((c) => c.args[0].input)).toEqual([
      // Only what differs: the security groups are unchanged, so they are not sent.
      { DBInstanceIdentifier: "pilot-t-1234abcd", DBInstanceClass: "db.t4g.small", ApplyImmediately: true },
    ]);
    expect(callOrder(rdsMock)).toEqual(["ModifyDBInstance", "DescribeDBInstances", "DescribeDBInstances"]);
  });
});

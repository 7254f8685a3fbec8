/**
 * Write-ahead tokens of an interrupted create (issue 8, point 3), as
 * aws-sdk-client-mock sequences: moto ignores ClientToken, so only a mock can
 * answer a reused token with a terminated instance, a deleted route table or
 * IdempotentParameterMismatch, as EC2 does for a day after the resource is gone.
 */
import {
  CreateRouteCommand,
  AssociateRouteTableCommand,
  CreateRouteTableCommand,
  DescribeImagesCommand,
  DescribeInstancesCommand,
  DescribeRouteTablesCommand,
  EC2Client,
  RunInstancesCommand,
  type Instance,
} from "@aws-sdk/client-ec2";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, describe, expect, it } from "vitest";
import type { CreateContext } from "../../../../src/engine/types.js";
import { instanceKind, type InstanceSpec } from "../../../../src/providers/aws/instance.js";
import { routeTableKind } from "../../../../src/providers/aws/route-table.js";
import { kindEnv } from "./kind-env.js";

const ec2Mock = mockClient(EC2Client);
afterEach(() => ec2Mock.reset());

const region = "us-east-1";
const env = () => kindEnv({ region });

/** A CreateContext as the engine gives one for a retried write-ahead record, recording what the kind did with it. */
function retriedCtx(key: string, request?: Record<string, string>) {
  const log = { retired: [] as string[], remembered: [] as Record<string, string>[] };
  let n = 0;
  const ctx: CreateContext = {
    token: "tok-old",
    tags: { stack: "t", stackId: "11111111-2222-3333-4444-555555555555", key },
    progress: () => undefined,
    retried: true,
    request,
    remember: async (r) => void log.remembered.push(r),
    retireToken: async () => {
      const next = `tok-new-${++n}`;
      log.retired.push(next);
      return next;
    },
  };
  return { ctx, log };
}

const spec: InstanceSpec = { instanceType: "t3.small", subnetId: "subnet-1", securityGroupIds: ["sg-1"], keyName: "k", instanceProfileName: "p", rootVolumeGb: 30 };
const inst = (id: string, state: string): Instance => ({
  InstanceId: id,
  InstanceType: "t3.small",
  ImageId: "ami-1",
  SubnetId: "subnet-1",
  State: { Name: state as never },
  SecurityGroups: [{ GroupId: "sg-1" }],
});
const ubuntu = { ImageId: "ami-new", CreationDate: "2025-01-01T00:00:00Z", RootDeviceName: "/dev/sda1", Architecture: "x86_64" as const };
const remembered = { imageId: "ami-kept", rootDeviceName: "/dev/xvda", architecture: "x86_64" };
const tokensSent = () => ec2Mock.commandCalls(RunInstancesCommand).map((c) => c.args[0].input.ClientToken);

describe("server instance: an interrupted create's token", () => {
  it("answered with a terminated instance is retired, and the server is launched with a new token", async () => {
    ec2Mock.on(DescribeImagesCommand).resolves({ Images: [ubuntu] });
    ec2Mock
      .on(RunInstancesCommand)
      .resolvesOnce({ Instances: [inst("i-dead", "terminated")] })
      .resolves({ Instances: [inst("i-2", "running")] });
    const { ctx, log } = retriedCtx("server");
    const created = await instanceKind(env()).create(spec, ctx);
    expect(created.id).toBe("i-2");
    expect(log.retired).toEqual(["tok-new-1"]);
    expect(tokensSent()).toEqual(["tok-old", "tok-new-1"]);
  });

  it("refused with IdempotentParameterMismatch (the request changed) and owning no live instance is retired", async () => {
    ec2Mock.on(DescribeImagesCommand).resolves({ Images: [ubuntu] });
    ec2Mock
      .on(RunInstancesCommand)
      .rejectsOnce(Object.assign(new Error("token reused with other parameters"), { name: "IdempotentParameterMismatch" }))
      .resolves({ Instances: [inst("i-2", "running")] });
    ec2Mock.on(DescribeInstancesCommand).resolves({ Reservations: [] });
    const { ctx, log } = retriedCtx("server");
    const created = await instanceKind(env()).create(spec, ctx);
    expect(created.id).toBe("i-2");
    expect(tokensSent()).toEqual(["tok-old", "tok-new-1"]);
    // It looked for a live instance of the old token first, by its client-token.
    const filters = ec2Mock.commandCalls(DescribeInstancesCommand)[0]!.args[0].input.Filters;
    expect(filters).toContainEqual({ Name: "client-token", Values: ["tok-old"] });
    expect(log.retired).toHaveLength(1);
  });

  it("refused with IdempotentParameterMismatch while its instance still lives: that one is kept, no second launch", async () => {
    ec2Mock.on(DescribeImagesCommand).resolves({ Images: [ubuntu] });
    ec2Mock.on(RunInstancesCommand).rejects(Object.assign(new Error("mismatch"), { name: "IdempotentParameterMismatch" }));
    ec2Mock.on(DescribeInstancesCommand).resolves({ Reservations: [{ Instances: [inst("i-1", "running")] }] });
    const { ctx, log } = retriedCtx("server");
    const created = await instanceKind(env()).create(spec, ctx);
    expect(created.id).toBe("i-1");
    expect(tokensSent()).toEqual(["tok-old"]);
    expect(log.retired).toEqual([]);
  });

  it("the AMI is resolved once and written ahead before RunInstances; a retry sends the remembered one", async () => {
    ec2Mock.on(DescribeImagesCommand).resolves({ Images: [ubuntu] });
    ec2Mock.on(RunInstancesCommand).resolves({ Instances: [inst("i-1", "running")] });
    const first = retriedCtx("server");
    first.ctx.retried = false;
    const order: string[] = [];
    const remember = first.ctx.remember!;
    first.ctx.remember = async (r) => {
      order.push(`remember ${r.imageId} (RunInstances sent: ${ec2Mock.commandCalls(RunInstancesCommand).length})`);
      await remember(r);
    };
    await instanceKind(env()).create(spec, first.ctx);
    expect(order).toEqual(["remember ami-new (RunInstances sent: 0)"]);
    expect(first.log.remembered).toEqual([{ imageId: "ami-new", rootDeviceName: "/dev/sda1", architecture: "x86_64" }]);

    // The retried create: a newer Ubuntu has been published meanwhile, but the same request goes out.
    ec2Mock.reset();
    ec2Mock.on(DescribeImagesCommand).resolves({ Images: [{ ...ubuntu, ImageId: "ami-newer", CreationDate: "2025-02-01T00:00:00Z" }] });
    ec2Mock.on(RunInstancesCommand).resolves({ Instances: [inst("i-1", "running")] });
    await instanceKind(env()).create(spec, retriedCtx("server", remembered).ctx);
    expect(ec2Mock.commandCalls(DescribeImagesCommand)).toHaveLength(0);
    const sent = ec2Mock.commandCalls(RunInstancesCommand)[0]!.args[0].input;
    expect(sent.ImageId).toBe("ami-kept");
    expect(sent.BlockDeviceMappings?.[0]?.DeviceName).toBe("/dev/xvda");
  });

  it("a remembered image of the other architecture is not reused (the instance type changed to Graviton)", async () => {
    ec2Mock.on(DescribeImagesCommand).resolves({ Images: [{ ...ubuntu, ImageId: "ami-arm", Architecture: "arm64" }] });
    ec2Mock.on(RunInstancesCommand).resolves({ Instances: [inst("i-1", "running")] });
    await instanceKind(env()).create({ ...spec, instanceType: "t4g.small" }, retriedCtx("server", remembered).ctx);
    expect(ec2Mock.commandCalls(RunInstancesCommand)[0]!.args[0].input.ImageId).toBe("ami-arm");
  });
});

describe("route table: an interrupted create's token", () => {
  const rtSpec = { vpcId: "vpc-1", internetGatewayId: "igw-1", subnetIds: ["subnet-1"] };
  const table = (id: string) => ({ RouteTable: { RouteTableId: id, VpcId: "vpc-1", Routes: [], Associations: [] } });
  const notFound = Object.assign(new Error("no such table"), { name: "InvalidRouteTableID.NotFound" });

  it("answered with a table that no longer exists is retired; the new table gets the route and association", async () => {
    ec2Mock.on(CreateRouteTableCommand).resolvesOnce(table("rtb-gone")).resolves(table("rtb-2"));
    ec2Mock.on(DescribeRouteTablesCommand, { RouteTableIds: ["rtb-gone"] }).rejects(notFound);
    ec2Mock.on(CreateRouteCommand).resolves({ Return: true });
    ec2Mock.on(AssociateRouteTableCommand).resolves({ AssociationId: "rtbassoc-1" });
    const { ctx, log } = retriedCtx("route-public");
    const created = await routeTableKind(env()).create(rtSpec, ctx);
    expect(created.id).toBe("rtb-2");
    expect(log.retired).toEqual(["tok-new-1"]);
    expect(ec2Mock.commandCalls(CreateRouteTableCommand).map((c) => c.args[0].input.ClientToken)).toEqual(["tok-old", "tok-new-1"]);
    expect(ec2Mock.commandCalls(CreateRouteCommand).map((c) => c.args[0].input.RouteTableId)).toEqual(["rtb-2"]);
  });

  it("answered with a table that exists (its tags not yet visible to find) keeps it: no second table", async () => {
    ec2Mock.on(CreateRouteTableCommand).resolves(table("rtb-1"));
    ec2Mock.on(DescribeRouteTablesCommand).rejectsOnce(notFound).resolves({ RouteTables: [table("rtb-1").RouteTable] });
    ec2Mock.on(CreateRouteCommand).resolves({ Return: true });
    ec2Mock.on(AssociateRouteTableCommand).resolves({ AssociationId: "rtbassoc-1" });
    const { ctx, log } = retriedCtx("route-public");
    const created = await routeTableKind(env()).create(rtSpec, ctx);
    expect(created.id).toBe("rtb-1");
    expect(log.retired).toEqual([]);
    expect(ec2Mock.commandCalls(CreateRouteTableCommand)).toHaveLength(1);
  });

  it("refused with IdempotentParameterMismatch (the VPC was re-created) is retired", async () => {
    ec2Mock.on(CreateRouteTableCommand).rejectsOnce(Object.assign(new Error("mismatch"), { name: "IdempotentParameterMismatch" })).resolves(table("rtb-2"));
    ec2Mock.on(CreateRouteCommand).resolves({ Return: true });
    ec2Mock.on(AssociateRouteTableCommand).resolves({ AssociationId: "rtbassoc-1" });
    const { ctx, log } = retriedCtx("route-public");
    expect((await routeTableKind(env()).create(rtSpec, ctx)).id).toBe("rtb-2");
    expect(log.retired).toEqual(["tok-new-1"]);
  });
});

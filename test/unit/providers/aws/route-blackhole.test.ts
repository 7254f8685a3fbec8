/**
 * A blackholed default route is drift (issue 8, point 9), as an
 * aws-sdk-client-mock sequence: moto never reports a route as "blackhole".
 * When the internet gateway is detached, the route keeps its gateway id and
 * turns "blackhole"; the server is cut off although the id still matches.
 */
import { DescribeRouteTablesCommand, EC2Client, ReplaceRouteCommand, type RouteTable } from "@aws-sdk/client-ec2";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, describe, expect, it } from "vitest";
import { routeTableKind, type RouteTableSpec } from "../../../../src/providers/aws/route-table.js";
import { kindEnv } from "./kind-env.js";

const ec2Mock = mockClient(EC2Client);
afterEach(() => ec2Mock.reset());

const region = "us-east-1";
const env = () => kindEnv({ region });

const spec: RouteTableSpec = { vpcId: "vpc-1", internetGatewayId: "igw-1", subnetIds: ["subnet-1"] };
const table = (state: "active" | "blackhole"): RouteTable => ({
  RouteTableId: "rtb-1",
  VpcId: "vpc-1",
  Routes: [
    { DestinationCidrBlock: "10.0.0.0/16", GatewayId: "local", State: "active" },
    { DestinationCidrBlock: "0.0.0.0/0", GatewayId: "igw-1", State: state },
  ],
  Associations: [{ RouteTableAssociationId: "rtbassoc-1", SubnetId: "subnet-1", Main: false }],
});

describe("aws.ec2.route-table: a blackholed default route", () => {
  it("an active route to the stack's gateway is the same", async () => {
    ec2Mock.on(DescribeRouteTablesCommand).resolves({ RouteTables: [table("active")] });
    const kind = routeTableKind(env());
    const out = (await kind.read("rtb-1", undefined))!;
    expect(kind.diff!(spec, out)).toEqual({ result: "same" });
  });

  it("is drift with its cause, and update replaces the route with the stack's gateway", async () => {
    ec2Mock.on(DescribeRouteTablesCommand).resolves({ RouteTables: [table("blackhole")] });
    ec2Mock.on(ReplaceRouteCommand).resolves({});
    const kind = routeTableKind(env());
    const out = (await kind.read("rtb-1", undefined))!;
    expect(kind.diff!(spec, out)).toEqual({ result: "update", reason: "the default route is a blackhole (its gateway was detached or deleted)" });

    const after = await kind.update!("rtb-1", spec, out);
    expect(ec2Mock.commandCalls(ReplaceRouteCommand).map((c) => c.args[0].input)).toEqual([
      { RouteTableId: "rtb-1", DestinationCidrBlock: "0.0.0.0/0", GatewayId: "igw-1" },
    ]);
    expect(kind.diff!(spec, after)).toEqual({ result: "same" });
  });
});

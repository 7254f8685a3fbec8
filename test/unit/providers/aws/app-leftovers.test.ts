/**
 * Teardown names what an app left in the stack's VPC (issue 8, point 7), as
 * aws-sdk-client-mock sequences: moto deletes a VPC with security groups in
 * it and a subnet with interfaces in it, so it never answers
 * DependencyViolation for them as AWS does.
 */
import {
  DeleteSecurityGroupCommand,
  DeleteSubnetCommand,
  DeleteVpcCommand,
  DescribeNetworkInterfacesCommand,
  DescribeSecurityGroupsCommand,
  EC2Client,
} from "@aws-sdk/client-ec2";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { PilotError } from "../../../../src/errors.js";
import { securityGroupKind } from "../../../../src/providers/aws/security-group.js";
import { isErrorCode } from "../../../../src/providers/aws/shared.js";
import { subnetKind } from "../../../../src/providers/aws/subnet.js";
import { vpcKind } from "../../../../src/providers/aws/vpc.js";
import { kindEnv } from "./kind-env.js";

const ec2Mock = mockClient(EC2Client);
afterEach(() => ec2Mock.reset());

const region = "us-east-1";
const env = () => kindEnv({ region });
const tags = (key: string) => ({ stack: "shop", stackId: "lineage-1", key });
const ctx = (key: string) => ({ tags: tags(key), progress: () => undefined }) as never;
const violation = () => Object.assign(new Error("The vpc 'vpc-1' has dependencies and cannot be deleted."), { name: "DependencyViolation" });

beforeEach(() => {
  ec2Mock.on(DescribeSecurityGroupsCommand).resolves({
    SecurityGroups: [
      { GroupId: "sg-default", GroupName: "default", VpcId: "vpc-1" },
      { GroupId: "sg-apps", GroupName: "pilot-shop-sg-apps", VpcId: "vpc-1", Tags: [{ Key: "pilot:stack-id", Value: "lineage-1" }] },
      { GroupId: "sg-web", GroupName: "web-inbound", Description: "created by waypoint", VpcId: "vpc-1" },
    ],
  });
  ec2Mock.on(DescribeNetworkInterfacesCommand).resolves({
    NetworkInterfaces: [
      { NetworkInterfaceId: "eni-lb", Description: "ELB app/waypoint-ecs-web/50dc6c495c0c9188" },
      { NetworkInterfaceId: "eni-task", Description: "arn:aws:ecs:us-east-1:123456789012:attachment/1", RequesterId: "amazon-ecs" },
      { NetworkInterfaceId: "eni-server", Description: "" },
    ],
  });
});

describe("teardown meets an app's leftovers", () => {
  it("the VPC's DependencyViolation names the app's group and load balancer, not Pilot's own, and stays retryable", async () => {
    ec2Mock.on(DeleteVpcCommand).rejects(violation());
    const err = await vpcKind(env()).delete("vpc-1", { vpcId: "vpc-1", cidr: "10.42.0.0/16" }, ctx("vpc")).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PilotError);
    const message = (err as Error).message;
    expect(message).toContain('security group sg-web "web-inbound" (created by waypoint)');
    expect(message).toContain("load balancer waypoint-ecs-web (network interface eni-lb)");
    expect(message).toContain("ECS task network interface eni-task");
    expect(message).not.toMatch(/sg-apps|sg-default|eni-server/);
    expect((err as PilotError).hint).toMatch(/pilot destroy PROJECT\/APP/);
    // The engine retries busy deletes by code: the named error must still read as DependencyViolation.
    expect(isErrorCode(err, "DependencyViolation")).toBe(true);
  });

  it("a subnet and a security group name them too", async () => {
    ec2Mock.on(DeleteSubnetCommand).rejects(violation());
    ec2Mock.on(DeleteSecurityGroupCommand).rejects(violation());
    const subnetOut = { subnetId: "subnet-1", vpcId: "vpc-1", cidr: "10.42.10.0/24", availabilityZone: "us-east-1a", zoneIndex: 0 };
    await expect(subnetKind(env()).delete("subnet-1", subnetOut, ctx("subnet-private-a"))).rejects.toThrow(/load balancer waypoint-ecs-web/);
    await expect(securityGroupKind(env()).delete("sg-apps", { groupId: "sg-apps", vpcId: "vpc-1", ingress: [] }, ctx("sg-apps"))).rejects.toThrow(/web-inbound/);
  });

  it("with nothing of an app's in the VPC, the AWS error passes as it was", async () => {
    ec2Mock.on(DescribeSecurityGroupsCommand).resolves({ SecurityGroups: [{ GroupId: "sg-default", GroupName: "default" }] });
    ec2Mock.on(DescribeNetworkInterfacesCommand).resolves({ NetworkInterfaces: [] });
    ec2Mock.on(DeleteVpcCommand).rejects(violation());
    const err = await vpcKind(env()).delete("vpc-1", { vpcId: "vpc-1", cidr: "10.42.0.0/16" }, ctx("vpc")).catch((e: unknown) => e);
    expect((err as Error).message).not.toContain("Pilot did not make");
    expect(isErrorCode(err, "DependencyViolation")).toBe(true);
  });
});

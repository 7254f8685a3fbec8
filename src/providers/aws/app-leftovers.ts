/**
 * What an app left in the stack's VPC when teardown meets DependencyViolation.
 * Waypoint's aws-ecs plugin makes "<app>-inbound" security groups, a
 * "waypoint-ecs-<app>" load balancer and task network interfaces in the
 * stack's subnets; none carries Pilot's tags, so teardown does not delete them
 * (they may be someone's), but it names them instead of only retrying.
 */
import { DescribeNetworkInterfacesCommand, DescribeSecurityGroupsCommand, type EC2Client } from "@aws-sdk/client-ec2";
import type { StackTags } from "../../engine/types.js";
import { PilotError } from "../../errors.js";
import { isErrorCode, tagValue, TAG_STACK_ID } from "./shared.js";

/** One line per resource in the VPC that Pilot did not make and that can block its deletion. */
export async function appLeftovers(ec2: EC2Client, vpcId: string, stackId: string): Promise<string[]> {
  const vpcFilter = [{ Name: "vpc-id", Values: [vpcId] }];
  const [groups, enis] = await Promise.all([
    ec2.send(new DescribeSecurityGroupsCommand({ Filters: vpcFilter })),
    ec2.send(new DescribeNetworkInterfacesCommand({ Filters: vpcFilter })),
  ]);
  const lines: string[] = [];
  for (const g of groups.SecurityGroups ?? []) {
    // The VPC's default group goes with the VPC; the stack's own groups are teardown's to delete.
    if (g.GroupName === "default" || tagValue(g.Tags, TAG_STACK_ID) === stackId) continue;
    lines.push(`security group ${g.GroupId} "${g.GroupName}"${g.Description ? ` (${g.Description})` : ""}`);
  }
  for (const n of enis.NetworkInterfaces ?? []) {
    // Load balancers' interfaces say "ELB app/<name>/<id>"; ECS tasks' are owned by ECS ("interface" with an ecs requester).
    const lb = /^ELB (app|net)\/([^/]+)\//.exec(n.Description ?? "");
    if (lb) lines.push(`load balancer ${lb[2]} (network interface ${n.NetworkInterfaceId})`);
    else if (n.RequesterId === "amazon-ecs" || /ecs/i.test(n.Description ?? "")) lines.push(`ECS task network interface ${n.NetworkInterfaceId}`);
  }
  return [...new Set(lines)];
}

/**
 * Runs a delete; on DependencyViolation, names what the stack's apps left in
 * the VPC. The error keeps the AWS error as its cause, so the engine still
 * retries it as a busy resource and gives up with this message.
 */
export async function namingLeftovers<T>(ec2: EC2Client, vpcId: string | undefined, tags: StackTags, action: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (!vpcId || !isErrorCode(err, "DependencyViolation")) throw err;
    const found = await appLeftovers(ec2, vpcId, tags.stackId).catch(() => []);
    if (found.length === 0) throw err;
    throw new PilotError(`${action}: still in use by ${found.length === 1 ? "a resource" : "resources"} Pilot did not make:\n  - ${found.join("\n  - ")}`, {
      hint: "These look like an app's (Waypoint's aws-ecs plugin makes them). Run `pilot destroy PROJECT/APP` for each ECS app, or delete them by hand, then run teardown again.",
      cause: err,
    });
  }
}

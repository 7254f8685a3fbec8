/**
 * Everything in the region (and IAM) that carries one stack's name, whatever
 * its lineage: what `pilot teardown --orphans` compares with state. EC2 and
 * RDS instances are found by the `pilot:stack` tag; IAM roles, instance
 * profiles and DB subnet groups, which no API filters by tag, by their
 * deterministic name `pilot-<stack>-<lineage8>-...`, confirmed by their tags.
 * Each object says what it uses, so the engine deletes it first.
 */
import {
  DescribeAddressesCommand,
  DescribeKeyPairsCommand,
  paginateDescribeInstances,
  paginateDescribeInternetGateways,
  paginateDescribeRouteTables,
  paginateDescribeSecurityGroups,
  paginateDescribeSubnets,
  paginateDescribeVpcs,
  type Filter,
  type Instance,
} from "@aws-sdk/client-ec2";
import { GetInstanceProfileCommand, GetRoleCommand, paginateListInstanceProfiles, paginateListRoles } from "@aws-sdk/client-iam";
import { ListTagsForResourceCommand, paginateDescribeDBInstances, paginateDescribeDBSubnetGroups } from "@aws-sdk/client-rds";
import { wrapError } from "../../errors.js";
import type { TaggedResource } from "../types.js";
import { orGone, TAG_KEY, TAG_STACK, TAG_STACK_ID, tagValue, type AwsKindEnv } from "./shared.js";

/** Instances that still hold a network interface (a terminated one is gone to Pilot). */
const NOT_TERMINATED = ["pending", "running", "shutting-down", "stopping", "stopped"];

type Tags = { Key?: string; Value?: string }[] | undefined;
type Ref = { type: string; id: string };

const ref = (type: string, id: string | undefined): Ref[] => (id ? [{ type, id }] : []);

/** "pilot-<stack>-<8 hex>-<what>": the names Pilot gives IAM objects and DB subnet groups. */
export function stackNamePattern(stack: string): RegExp {
  const escaped = stack.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return new RegExp(`^pilot-${escaped}-[0-9a-f]{8}-[a-z0-9-]+$`, "i");
}

/** What the scan needs beyond the clients: the lineage state says lives in this region, and where to warn. */
export interface FindTaggedOptions {
  /** The lineage of the stack's state, when it has one in this region. */
  homeLineage?: string;
  warn?: (message: string) => void;
}

/**
 * Every object carrying `pilot:stack=<stack>` in env.region, with what each
 * one uses. IAM is global, so a role or instance profile is only reported
 * when its lineage has something in this region (or is the state's own):
 * a same-named stack in another region keeps its server role.
 */
export async function findTaggedAws(env: AwsKindEnv, stack: string, opts: FindTaggedOptions = {}): Promise<TaggedResource[]> {
  const { ec2, rds, iam } = env.clients;
  const Filters: Filter[] = [{ Name: `tag:${TAG_STACK}`, Values: [stack] }];
  const named = stackNamePattern(stack);
  const ours = (tags: Tags) => tagValue(tags, TAG_STACK) === stack;
  const item = (type: string, id: string, tags: Tags, uses: Ref[]): TaggedResource => ({
    type,
    id,
    lineage: tagValue(tags, TAG_STACK_ID),
    key: tagValue(tags, TAG_KEY),
    uses,
  });
  const all = async <P, T>(pages: AsyncIterable<P>, pick: (page: P) => T[] | undefined): Promise<T[]> => {
    const out: T[] = [];
    for await (const page of pages) out.push(...(pick(page) ?? []));
    return out;
  };
  const step = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      throw wrapError(`list ${what} of stack "${stack}" in ${env.region}`, err);
    }
  };

  const [vpcs, subnets, igws, routeTables, groups, keyPairs, addresses, instances, dbs, subnetGroups, roles, profiles] = await Promise.all([
    step("VPCs", () => all(paginateDescribeVpcs({ client: ec2 }, { Filters }), (p) => p.Vpcs)),
    step("subnets", () => all(paginateDescribeSubnets({ client: ec2 }, { Filters }), (p) => p.Subnets)),
    step("internet gateways", () => all(paginateDescribeInternetGateways({ client: ec2 }, { Filters }), (p) => p.InternetGateways)),
    step("route tables", () => all(paginateDescribeRouteTables({ client: ec2 }, { Filters }), (p) => p.RouteTables)),
    step("security groups", () => all(paginateDescribeSecurityGroups({ client: ec2 }, { Filters }), (p) => p.SecurityGroups)),
    step("key pairs", async () => (await ec2.send(new DescribeKeyPairsCommand({ Filters }))).KeyPairs ?? []),
    step("Elastic IPs", async () => (await ec2.send(new DescribeAddressesCommand({ Filters }))).Addresses ?? []),
    step("instances", () =>
      all(
        paginateDescribeInstances({ client: ec2 }, { Filters: [...Filters, { Name: "instance-state-name", Values: NOT_TERMINATED }] }),
        (p) => (p.Reservations ?? []).flatMap((r) => r.Instances ?? []),
      ),
    ),
    // RDS filters neither instances nor subnet groups by tag: instances carry their tags, groups their name.
    step("databases", async () => (await all(paginateDescribeDBInstances({ client: rds }, {}), (p) => p.DBInstances)).filter((d) => ours(d.TagList))),
    step("DB subnet groups", async () => {
      const candidates = (await all(paginateDescribeDBSubnetGroups({ client: rds }, {}), (p) => p.DBSubnetGroups)).filter((g) =>
        named.test(g.DBSubnetGroupName ?? ""),
      );
      const tagged = await Promise.all(
        candidates.map(async (g) => {
          const tags = g.DBSubnetGroupArn
            ? (await orGone(["DBSubnetGroupNotFoundFault"], () => rds.send(new ListTagsForResourceCommand({ ResourceName: g.DBSubnetGroupArn }))))?.TagList
            : undefined;
          return { group: g, tags };
        }),
      );
      return tagged.filter((x) => ours(x.tags));
    }),
    // IAM is global and lists no tags: match the name, then read each candidate's tags.
    step("IAM roles", async () => {
      const candidates = (await all(paginateListRoles({ client: iam }, {}), (p) => p.Roles)).filter((r) => named.test(r.RoleName ?? ""));
      const roles = await Promise.all(
        candidates.map(async (r) => (await orGone(["NoSuchEntity"], () => iam.send(new GetRoleCommand({ RoleName: r.RoleName! }))))?.Role),
      );
      return roles.filter((r) => r && ours(r.Tags)).map((r) => r!);
    }),
    step("instance profiles", async () => {
      const candidates = (await all(paginateListInstanceProfiles({ client: iam }, {}), (p) => p.InstanceProfiles)).filter((p) =>
        named.test(p.InstanceProfileName ?? ""),
      );
      const profiles = await Promise.all(
        candidates.map(
          async (p) =>
            (await orGone(["NoSuchEntity"], () => iam.send(new GetInstanceProfileCommand({ InstanceProfileName: p.InstanceProfileName! }))))
              ?.InstanceProfile,
        ),
      );
      return profiles.filter((p) => p && ours(p.Tags)).map((p) => p!);
    }),
  ]);

  // Which VPC an instance is in, and which gateways each VPC has: an address mapped in a VPC
  // keeps its gateway from detaching, so an Elastic IP goes before the gateway.
  const instanceVpc = new Map(instances.map((i: Instance) => [i.InstanceId!, i.VpcId]));
  const gatewaysOf = (vpcId: string | undefined): Ref[] =>
    igws.filter((g) => vpcId && g.Attachments?.some((a) => a.VpcId === vpcId)).map((g) => ({ type: "aws.ec2.internet-gateway", id: g.InternetGatewayId! }));
  const profileName = (arn: string | undefined) => arn?.split("/").pop();

  const regional: TaggedResource[] = [
    ...vpcs.map((v) => item("aws.ec2.vpc", v.VpcId!, v.Tags, [])),
    ...subnets.map((s) => item("aws.ec2.subnet", s.SubnetId!, s.Tags, ref("aws.ec2.vpc", s.VpcId))),
    ...igws.map((g) =>
      item("aws.ec2.internet-gateway", g.InternetGatewayId!, g.Tags, (g.Attachments ?? []).flatMap((a) => ref("aws.ec2.vpc", a.VpcId))),
    ),
    ...routeTables.map((rt) =>
      item("aws.ec2.route-table", rt.RouteTableId!, rt.Tags, [
        ...ref("aws.ec2.vpc", rt.VpcId),
        ...(rt.Routes ?? []).flatMap((r) => ref("aws.ec2.internet-gateway", r.GatewayId?.startsWith("igw-") ? r.GatewayId : undefined)),
        ...(rt.Associations ?? []).flatMap((a) => ref("aws.ec2.subnet", a.SubnetId)),
      ]),
    ),
    ...groups.map((sg) =>
      item("aws.ec2.security-group", sg.GroupId!, sg.Tags, [
        ...ref("aws.ec2.vpc", sg.VpcId),
        // A group another group's rules refer to cannot be deleted first.
        ...[...(sg.IpPermissions ?? []), ...(sg.IpPermissionsEgress ?? [])]
          .flatMap((p) => p.UserIdGroupPairs ?? [])
          .filter((pair) => pair.GroupId && pair.GroupId !== sg.GroupId)
          .map((pair) => ({ type: "aws.ec2.security-group", id: pair.GroupId! })),
      ]),
    ),
    ...keyPairs.map((k) => item("aws.ec2.key-pair", k.KeyName!, k.Tags, [])),
    ...instances.map((i) =>
      item("aws.ec2.instance", i.InstanceId!, i.Tags, [
        ...ref("aws.ec2.subnet", i.SubnetId),
        ...(i.SecurityGroups ?? []).flatMap((g) => ref("aws.ec2.security-group", g.GroupId)),
        ...ref("aws.ec2.key-pair", i.KeyName),
        ...ref("aws.iam.instance-profile", profileName(i.IamInstanceProfile?.Arn)),
      ]),
    ),
    ...addresses.map((a) =>
      item("aws.ec2.elastic-ip", a.AllocationId!, a.Tags, [...ref("aws.ec2.instance", a.InstanceId), ...gatewaysOf(a.InstanceId ? instanceVpc.get(a.InstanceId) : undefined)]),
    ),
    ...subnetGroups.map(({ group, tags }) =>
      item("aws.rds.subnet-group", group.DBSubnetGroupName!, tags, (group.Subnets ?? []).flatMap((s) => ref("aws.ec2.subnet", s.SubnetIdentifier))),
    ),
    ...dbs.map((d) =>
      item("aws.rds.instance", d.DBInstanceIdentifier!, d.TagList, [
        ...ref("aws.rds.subnet-group", d.DBSubnetGroup?.DBSubnetGroupName),
        ...(d.VpcSecurityGroups ?? []).flatMap((g) => ref("aws.ec2.security-group", g.VpcSecurityGroupId)),
      ]),
    ),
  ];
  const global: TaggedResource[] = [
    ...profiles.map((p) => item("aws.iam.instance-profile", p.InstanceProfileName!, p.Tags, (p.Roles ?? []).flatMap((r) => ref("aws.iam.role", r.RoleName)))),
    ...roles.map((r) => item("aws.iam.role", r.RoleName!, r.Tags, [])),
  ];
  const here = new Set(regional.map((r) => r.lineage).filter(Boolean));
  if (opts.homeLineage) here.add(opts.homeLineage);
  const elsewhere = global.filter((g) => !g.lineage || !here.has(g.lineage));
  for (const g of elsewhere) {
    opts.warn?.(
      `${g.type} ${g.id} carries stack "${stack}" (lineage ${g.lineage ?? "unknown"}) but nothing of that lineage is in ${env.region}: ` +
        "left alone, as it may belong to a stack of this name in another region (run --orphans there, or delete it in IAM).",
    );
  }
  return [...regional, ...global.filter((g) => !elsewhere.includes(g))];
}

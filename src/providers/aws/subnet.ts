import {
  CreateSubnetCommand,
  DeleteSubnetCommand,
  DescribeAvailabilityZonesCommand,
  DescribeInstanceTypeOfferingsCommand,
  DescribeSubnetsCommand,
  type EC2Client,
  type Subnet,
} from "@aws-sdk/client-ec2";
import type { ResourceKind } from "../../engine/types.js";
import { namingLeftovers } from "./app-leftovers.js";
import { PilotError } from "../../errors.js";
import { actions, attempt, createOrAdopt, firstOwned, hasStackTags, isErrorCode, orGone, tagFilters, tagSpecs, type AwsKindEnv } from "./shared.js";

/** Desired subnet: its VPC, range, and which of the region's zones (by sorted position) it sits in. */
export interface SubnetSpec {
  vpcId: string;
  cidr: string;
  /** 0 = the region's first available zone, 1 = the second... Picked at run time, never hard-coded. */
  zoneIndex: number;
  /** The instance type a server in this subnet runs: only zones that offer it are counted. */
  offers?: string;
}

/** A subnet as recorded in state. */
export interface SubnetOut {
  subnetId: string;
  vpcId: string;
  cidr: string;
  availabilityZone: string;
  zoneIndex: number;
}

const TYPE = "aws.ec2.subnet";
const GONE = ["InvalidSubnetID.NotFound"];

// One DescribeAvailabilityZones per client, shared by every subnet of the run.
const zoneCache = new WeakMap<EC2Client, Promise<string[]>>();

/** The region's available, non-opt-in zones in name order (stable across runs). */
export function availabilityZones(ec2: EC2Client): Promise<string[]> {
  let zones = zoneCache.get(ec2);
  if (!zones) {
    zones = ec2
      .send(
        new DescribeAvailabilityZonesCommand({
          Filters: [
            { Name: "state", Values: ["available"] },
            { Name: "zone-type", Values: ["availability-zone"] },
          ],
        }),
      )
      .then((res) =>
        (res.AvailabilityZones ?? [])
          // Opt-in zones (Local Zones) lack most instance types and RDS.
          .filter((z) => z.OptInStatus === undefined || z.OptInStatus === "opt-in-not-required")
          .map((z) => z.ZoneName!)
          .sort(),
      );
    zones.catch(() => zoneCache.delete(ec2));
    zoneCache.set(ec2, zones);
  }
  return zones;
}

/**
 * The zones (of availabilityZones) where an instance type is offered: not every type is in
 * every zone, and RunInstances in a zone without it fails only after the whole network exists.
 */
export async function zonesOffering(ec2: EC2Client, instanceType: string | undefined): Promise<string[]> {
  const zones = await availabilityZones(ec2);
  if (!instanceType) return zones;
  const offered = new Set<string>();
  let NextToken: string | undefined;
  do {
    const res = await ec2.send(
      new DescribeInstanceTypeOfferingsCommand({
        LocationType: "availability-zone",
        Filters: [{ Name: "instance-type", Values: [instanceType] }],
        NextToken,
      }),
    );
    for (const o of res.InstanceTypeOfferings ?? []) if (o.Location) offered.add(o.Location);
    NextToken = res.NextToken;
  } while (NextToken);
  return zones.filter((z) => offered.has(z));
}

/** A subnet in one availability zone; public and private subnets differ only in their route tables. */
export function subnetKind(env: AwsKindEnv): ResourceKind<SubnetSpec, SubnetOut> {
  const { ec2 } = env.clients;
  const act = actions(TYPE, env.region);

  // zoneIndex is not an AWS attribute: carry it over from the previous record (or the spec) so diff can compare.
  const toOut = (s: Subnet, zoneIndex: number): SubnetOut => ({
    subnetId: s.SubnetId!,
    vpcId: s.VpcId!,
    cidr: s.CidrBlock!,
    availabilityZone: s.AvailabilityZone!,
    zoneIndex,
  });

  return {
    type: TYPE,
    async read(id, prev) {
      const res = await attempt(act("read", id), () => orGone(GONE, () => ec2.send(new DescribeSubnetsCommand({ SubnetIds: [id] }))));
      const s = res?.Subnets?.[0];
      return s ? toOut(s, prev?.zoneIndex ?? 0) : undefined;
    },
    async find(tags, spec) {
      const res = await attempt(act("find", tags.key), () => ec2.send(new DescribeSubnetsCommand({ Filters: tagFilters(tags) })));
      const s = firstOwned(res.Subnets);
      if (!s) return undefined;
      // zoneIndex is not stored in AWS: take it from the spec, or else from the subnet's zone.
      const zoneIndex = spec?.zoneIndex ?? Math.max(0, (await attempt(act("find", tags.key), () => zonesOffering(ec2, spec?.offers))).indexOf(s.AvailabilityZone!));
      return { id: s.SubnetId!, out: toOut(s, zoneIndex) };
    },
    async create(spec, ctx) {
      const action = act("create", ctx.tags.key);
      const zones = await attempt(action, () => zonesOffering(ec2, spec.offers));
      const zone = zones[spec.zoneIndex];
      if (!zone && spec.offers) {
        throw new PilotError(`${action}: no availability zone of ${env.region} offers instance type ${spec.offers}.`, {
          hint: "Choose another --instance-type, or another --region.",
        });
      }
      if (!zone) {
        throw new PilotError(`${action}: the region has ${zones.length} availability zone(s); the stack needs ${spec.zoneIndex + 1}.`, {
          hint: "Choose a region with at least two availability zones (--region).",
        });
      }
      // A range is unique in its VPC, so a create retried after a lost answer is refused
      // (InvalidSubnet.Conflict) rather than repeated: the subnet that answer made is ours, and adopted.
      const res = await createOrAdopt({
        action,
        name: `a subnet with range ${spec.cidr} in ${spec.vpcId}`,
        create: () =>
          ec2.send(
            new CreateSubnetCommand({
              VpcId: spec.vpcId,
              CidrBlock: spec.cidr,
              AvailabilityZone: zone,
              TagSpecifications: tagSpecs(ctx.tags, "subnet"),
            }),
          ),
        isAlreadyExists: (err) => isErrorCode(err, "InvalidSubnet.Conflict"),
        existing: async () =>
          (
            await ec2.send(
              new DescribeSubnetsCommand({
                Filters: [
                  { Name: "vpc-id", Values: [spec.vpcId] },
                  { Name: "cidr-block", Values: [spec.cidr] },
                ],
              }),
            )
          ).Subnets?.[0],
        isOurs: (s) => hasStackTags(s.Tags, ctx.tags),
        hint: "That range is taken in the stack's VPC by a subnet Pilot did not make for this node; delete it, or use another --name.",
      });
      const s = res.created ? res.created.Subnet! : res.adopted;
      return { id: s.SubnetId!, out: toOut(s, spec.zoneIndex) };
    },
    async delete(id, out, ctx) {
      // DependencyViolation (a lingering ENI) propagates: the engine retries it (isRetryableDelete),
      // and the message names an app's load balancer or tasks still in the subnet.
      const action = act("delete", ctx.tags.key);
      await namingLeftovers(ec2, out?.vpcId, ctx.tags, action, () => attempt(action, () => orGone(GONE, () => ec2.send(new DeleteSubnetCommand({ SubnetId: id })))));
    },
    diff(spec, out) {
      if (spec.vpcId !== out.vpcId) return { result: "replace", reason: "the VPC changed" };
      if (spec.cidr !== out.cidr) return { result: "replace", reason: `CIDR ${out.cidr} → ${spec.cidr}` };
      if (spec.zoneIndex !== out.zoneIndex) return { result: "replace", reason: "the availability zone changed" };
      return { result: "same" };
    },
  };
}

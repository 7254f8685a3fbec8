import {
  AuthorizeSecurityGroupEgressCommand,
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  DeleteSecurityGroupCommand,
  DescribeSecurityGroupsCommand,
  RevokeSecurityGroupEgressCommand,
  RevokeSecurityGroupIngressCommand,
  type IpPermission,
  type SecurityGroup,
} from "@aws-sdk/client-ec2";
import type { ResourceKind } from "../../engine/types.js";
import { namingLeftovers } from "./app-leftovers.js";
import {
  actions,
  attempt,
  createOrAdopt,
  firstOwned,
  hasStackTags,
  isErrorCode,
  orGone,
  retryNotFound,
  setDelta,
  tagFilters,
  tagSpecs,
  type AwsKindEnv,
} from "./shared.js";

/** One allowed inbound TCP port (or range, up to `toPort`), from address ranges and/or other security groups. */
export interface IngressRule {
  port: number;
  /** Last port of a range starting at `port`; unset for a single port. */
  toPort?: number;
  cidrs?: string[];
  sourceGroupIds?: string[];
}

/** Desired security group. Egress stays AWS's default (all outbound), which the server needs for apt and image pulls. */
export interface SecurityGroupSpec {
  vpcId: string;
  name: string;
  description: string;
  ingress: IngressRule[];
}

/** A security group as recorded in state; `ingress` is the sorted list of rule keys ("tcp:22:cidr:203.0.113.4/32"). */
export interface SecurityGroupOut {
  groupId: string;
  vpcId: string;
  ingress: string[];
  /** Outbound rule keys as read; undefined in state written before Pilot read them. */
  egress?: string[];
}

/**
 * Every group keeps AWS's default egress (all outbound, IPv4): the server needs it for
 * apt and image pulls, the apps for their own calls. A rule added or removed outside
 * Pilot is drift, repaired in place.
 */
export const DEFAULT_EGRESS = ["-1:all:cidr:0.0.0.0/0"];

const TYPE = "aws.ec2.security-group";
const GONE = ["InvalidGroup.NotFound", "InvalidGroupId.NotFound"];

/** Flattens rules to one key per (port, source), the unit AWS authorizes and revokes. */
export function ruleKeys(rules: IngressRule[]): string[] {
  const keys = new Set<string>();
  for (const r of rules) {
    // The same spelling permissionKeys reads back from AWS: "22", or "0-65535" for a range.
    const ports = r.toPort === undefined || r.toPort === r.port ? String(r.port) : `${r.port}-${r.toPort}`;
    for (const c of r.cidrs ?? []) keys.add(`tcp:${ports}:cidr:${c}`);
    for (const g of r.sourceGroupIds ?? []) keys.add(`tcp:${ports}:sg:${g}`);
  }
  return [...keys].sort();
}

function permissionKeys(perms: IpPermission[] | undefined): string[] {
  const keys: string[] = [];
  for (const p of perms ?? []) {
    // Pilot writes TCP rules for one port or a range; anything else (added by hand) still shows as drift.
    const port = p.FromPort === undefined ? "all" : p.FromPort === p.ToPort ? String(p.FromPort) : `${p.FromPort}-${p.ToPort}`;
    const proto = p.IpProtocol ?? "-1";
    for (const r of p.IpRanges ?? []) keys.push(`${proto}:${port}:cidr:${r.CidrIp}`);
    for (const g of p.UserIdGroupPairs ?? []) keys.push(`${proto}:${port}:sg:${g.GroupId}`);
    for (const r of p.Ipv6Ranges ?? []) keys.push(`${proto}:${port}:cidr6:${r.CidrIpv6}`);
  }
  return [...new Set(keys)].sort();
}

/** Turns rule keys back into IpPermissions for authorize/revoke. */
function keysToPermissions(keys: string[]): IpPermission[] {
  return keys.map((key) => {
    // "tcp:22:cidr:203.0.113.4/32" (an IPv6 source contains colons, hence the anchored pattern).
    const [, proto, port, kind, source] = key.match(/^([^:]+):([^:]+):(cidr6?|sg):(.+)$/)!;
    const perm: IpPermission = { IpProtocol: proto };
    if (port !== "all") {
      const [from, to] = port.split("-").map(Number);
      perm.FromPort = from;
      perm.ToPort = to ?? from;
    }
    if (kind === "cidr") perm.IpRanges = [{ CidrIp: source }];
    else if (kind === "cidr6") perm.Ipv6Ranges = [{ CidrIpv6: source }];
    else perm.UserIdGroupPairs = [{ GroupId: source }];
    return perm;
  });
}

function toOut(sg: SecurityGroup): SecurityGroupOut {
  return { groupId: sg.GroupId!, vpcId: sg.VpcId!, ingress: permissionKeys(sg.IpPermissions), egress: permissionKeys(sg.IpPermissionsEgress) };
}

/**
 * A VPC security group with its inbound rules. Changed sources (a new
 * --allow-cidr) are an in-place update: authorize what is missing, revoke
 * what is no longer wanted, so the group id and everything using it stay.
 */
export function securityGroupKind(env: AwsKindEnv): ResourceKind<SecurityGroupSpec, SecurityGroupOut> {
  const { ec2 } = env.clients;
  const act = actions(TYPE, env.region);

  async function converge(action: string, groupId: string, want: string[], have: string[]): Promise<void> {
    const { missing, extra } = setDelta(want, have);
    if (missing.length > 0) {
      await attempt(action, async () => {
        try {
          await ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: groupId, IpPermissions: keysToPermissions(missing) }));
        } catch (err) {
          // A retried create may find some rules already there; the next diff catches any still missing.
          if (!isErrorCode(err, "InvalidPermission.Duplicate")) throw err;
        }
      });
    }
    if (extra.length > 0) {
      await attempt(action, () =>
        ec2.send(new RevokeSecurityGroupIngressCommand({ GroupId: groupId, IpPermissions: keysToPermissions(extra) })),
      );
    }
  }

  /** Puts egress back to DEFAULT_EGRESS: authorize first, so the group is never left with no way out. */
  async function convergeEgress(action: string, groupId: string, have: string[]): Promise<void> {
    const { missing, extra } = setDelta(DEFAULT_EGRESS, have);
    if (missing.length > 0) {
      await attempt(action, () => ec2.send(new AuthorizeSecurityGroupEgressCommand({ GroupId: groupId, IpPermissions: keysToPermissions(missing) })));
    }
    if (extra.length > 0) {
      await attempt(action, () => ec2.send(new RevokeSecurityGroupEgressCommand({ GroupId: groupId, IpPermissions: keysToPermissions(extra) })));
    }
  }

  return {
    type: TYPE,
    async read(id) {
      const res = await attempt(act("read", id), () =>
        orGone(GONE, () => ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [id] }))),
      );
      const sg = res?.SecurityGroups?.[0];
      return sg ? toOut(sg) : undefined;
    },
    async find(tags) {
      const res = await attempt(act("find", tags.key), () =>
        ec2.send(new DescribeSecurityGroupsCommand({ Filters: tagFilters(tags) })),
      );
      const sg = firstOwned(res.SecurityGroups);
      return sg ? { id: sg.GroupId!, out: toOut(sg) } : undefined;
    },
    async create(spec, ctx) {
      const action = act("create", ctx.tags.key);
      // A group's name is unique in its VPC, so a create retried after a lost answer is refused
      // (InvalidGroup.Duplicate) rather than repeated: the group that answer made is ours, and adopted.
      const res = await createOrAdopt({
        action,
        name: `a security group named ${spec.name} in ${spec.vpcId}`,
        create: () =>
          ec2.send(
            new CreateSecurityGroupCommand({
              VpcId: spec.vpcId,
              GroupName: spec.name,
              Description: spec.description,
              TagSpecifications: tagSpecs(ctx.tags, "security-group"),
            }),
          ),
        isAlreadyExists: (err) => isErrorCode(err, "InvalidGroup.Duplicate"),
        existing: async () =>
          (
            await ec2.send(
              new DescribeSecurityGroupsCommand({
                Filters: [
                  { Name: "vpc-id", Values: [spec.vpcId] },
                  { Name: "group-name", Values: [spec.name] },
                ],
              }),
            )
          ).SecurityGroups?.[0],
        isOurs: (sg) => hasStackTags(sg.Tags, ctx.tags),
        hint: "Delete that security group, or use another --name for this stack.",
      });
      const groupId = res.created ? res.created.GroupId! : res.adopted.GroupId!;
      const have = res.adopted ? permissionKeys(res.adopted.IpPermissions) : [];
      const want = ruleKeys(spec.ingress);
      // Just created: authorizing may not see the group yet (InvalidGroup.NotFound), so that is retried for a while.
      await retryNotFound(env, GONE, () => converge(action, groupId, want, have));
      // A new group gets AWS's default egress, which is DEFAULT_EGRESS.
      return { id: groupId, out: { groupId, vpcId: spec.vpcId, ingress: want, egress: DEFAULT_EGRESS } };
    },
    async delete(id, out, ctx) {
      // DependencyViolation (still referenced by another group or an ENI) propagates for the engine to retry,
      // naming an app's groups or interfaces that still use it.
      const action = act("delete", ctx.tags.key);
      await namingLeftovers(ec2, out?.vpcId, ctx.tags, action, () => attempt(action, () => orGone(GONE, () => ec2.send(new DeleteSecurityGroupCommand({ GroupId: id })))));
    },
    diff(spec, out) {
      if (spec.vpcId !== out.vpcId) return { result: "replace", reason: "the VPC changed" };
      const ingress = setDelta(ruleKeys(spec.ingress), out.ingress);
      const egress = setDelta(DEFAULT_EGRESS, out.egress ?? DEFAULT_EGRESS);
      const reasons: string[] = [];
      if (!ingress.same) reasons.push(`ingress rules differ (+${ingress.missing.length} -${ingress.extra.length})`);
      if (!egress.same) reasons.push(`egress rules changed outside Pilot (+${egress.extra.length} -${egress.missing.length})`);
      return reasons.length === 0 ? { result: "same" } : { result: "update", reason: reasons.join("; ") };
    },
    async update(id, spec, out) {
      const want = ruleKeys(spec.ingress);
      await converge(act("update", id), id, want, out.ingress);
      await convergeEgress(act("update", id), id, out.egress ?? DEFAULT_EGRESS);
      return { groupId: id, vpcId: out.vpcId, ingress: want, egress: DEFAULT_EGRESS };
    },
  };
}

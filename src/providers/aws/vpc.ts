import { CreateVpcCommand, DeleteVpcCommand, DescribeVpcsCommand, type Vpc } from "@aws-sdk/client-ec2";
import type { ResourceKind, StackTags } from "../../engine/types.js";
import { namingLeftovers } from "./app-leftovers.js";
import { createOnce } from "./lost-answers.js";
import { actions, attempt, firstOwned, orGone, tagFilters, tagSpecs, waitFor, type AwsKindEnv } from "./shared.js";

/** Desired VPC: its address range. */
export interface VpcSpec {
  cidr: string;
}

/** A VPC as recorded in state. */
export interface VpcOut {
  vpcId: string;
  cidr: string;
}

const TYPE = "aws.ec2.vpc";
const GONE = ["InvalidVpcID.NotFound"];

function toOut(vpc: Vpc): VpcOut {
  return { vpcId: vpc.VpcId!, cidr: vpc.CidrBlock! };
}

/** The stack's VPC. A changed CIDR means a new VPC (AWS cannot change a VPC's primary range). */
export function vpcKind(env: AwsKindEnv): ResourceKind<VpcSpec, VpcOut> {
  const { ec2 } = env.clients;
  const act = actions(TYPE, env.region);

  /** The VPC by id; undefined when not found. */
  async function describe(id: string): Promise<Vpc | undefined> {
    const res = await orGone(GONE, () => ec2.send(new DescribeVpcsCommand({ VpcIds: [id] })));
    return res?.Vpcs?.[0];
  }

  /** Every VPC carrying one node's tags (more than one only after a lost answer). */
  async function listOwn(tags: StackTags): Promise<Vpc[]> {
    const res = await attempt(act("find", tags.key), () => ec2.send(new DescribeVpcsCommand({ Filters: tagFilters(tags) })));
    return res.Vpcs ?? [];
  }

  const kind: ResourceKind<VpcSpec, VpcOut> = {
    type: TYPE,
    async read(id) {
      const vpc = await attempt(act("read", id), () => describe(id));
      return vpc ? toOut(vpc) : undefined;
    },
    async find(tags) {
      const vpc = firstOwned(await listOwn(tags));
      return vpc ? { id: vpc.VpcId!, out: toOut(vpc) } : undefined;
    },
    async create(spec, ctx) {
      const action = act("create", ctx.tags.key);
      // CreateVpc takes no token: a retried call whose first answer was lost leaves a duplicate, deleted here.
      const res = await createOnce(env, ctx, {
        action,
        type: TYPE,
        send: () => ec2.send(new CreateVpcCommand({ CidrBlock: spec.cidr, TagSpecifications: tagSpecs(ctx.tags, "vpc") })),
        idOf: (r) => r.Vpc!.VpcId!,
        listOwn: async () => (await listOwn(ctx.tags)).map((v) => v.VpcId!),
        remove: (id) => kind.delete(id, undefined, ctx),
      });
      const vpcId = res.Vpc!.VpcId!;
      // A new VPC is "pending" for a moment; wait so its subnets are not refused. Just created, it may
      // also answer not-found for a moment (EC2 is eventually consistent): that is "not visible yet", within the same bound.
      if (res.Vpc?.State !== "available") {
        await attempt(action, () =>
          waitFor(env, { what: `VPC ${vpcId}`, intervalMs: 2_000, timeoutMs: 120_000, progress: ctx.progress }, async () => {
            const vpc = await describe(vpcId);
            const state = vpc ? (vpc.State ?? "pending") : "not visible yet";
            return { done: state === "available", status: state };
          }),
        );
      }
      return { id: vpcId, out: { vpcId, cidr: spec.cidr } };
    },
    async delete(id, _out, ctx) {
      // An app's security groups keep the VPC: DependencyViolation (retried by the engine) names them.
      const action = act("delete", ctx.tags.key);
      await namingLeftovers(ec2, id, ctx.tags, action, () => attempt(action, () => orGone(GONE, () => ec2.send(new DeleteVpcCommand({ VpcId: id })))));
    },
    diff(spec, out) {
      return spec.cidr === out.cidr ? { result: "same" } : { result: "replace", reason: `CIDR ${out.cidr} → ${spec.cidr}` };
    },
  };
  return kind;
}

import {
  AttachInternetGatewayCommand,
  CreateInternetGatewayCommand,
  DeleteInternetGatewayCommand,
  DescribeInternetGatewaysCommand,
  DetachInternetGatewayCommand,
  type InternetGateway,
} from "@aws-sdk/client-ec2";
import type { ResourceKind, StackTags } from "../../engine/types.js";
import { createOnce } from "./lost-answers.js";
import { actions, attempt, firstOwned, isErrorCode, orGone, retryNotFound, tagFilters, tagSpecs, type AwsKindEnv } from "./shared.js";

/** Desired internet gateway: the VPC it is attached to. */
export interface InternetGatewaySpec {
  vpcId: string;
}

/** An internet gateway as recorded in state; `vpcId` is where it is attached now (undefined = detached). */
export interface InternetGatewayOut {
  internetGatewayId: string;
  vpcId?: string;
}

const TYPE = "aws.ec2.internet-gateway";
const GONE = ["InvalidInternetGatewayID.NotFound"];

function toOut(igw: InternetGateway): InternetGatewayOut {
  // The API documents "attached", but real EC2 answers "available" for an attached gateway.
  const attached = igw.Attachments?.find((a) => ["available", "attached", "attaching"].includes(String(a.State)));
  return { internetGatewayId: igw.InternetGatewayId!, vpcId: attached?.VpcId };
}

/**
 * The VPC's internet gateway together with its attachment: one node, because
 * a gateway is useless detached, and a create interrupted between the two
 * calls is healed by diff/update ("not attached" → attach).
 */
export function internetGatewayKind(env: AwsKindEnv): ResourceKind<InternetGatewaySpec, InternetGatewayOut> {
  const { ec2 } = env.clients;
  const act = actions(TYPE, env.region);

  async function attach(action: string, id: string, vpcId: string): Promise<void> {
    await attempt(action, async () => {
      try {
        await ec2.send(new AttachInternetGatewayCommand({ InternetGatewayId: id, VpcId: vpcId }));
      } catch (err) {
        // Already attached to this VPC (a retried create): nothing to do.
        if (!isErrorCode(err, "Resource.AlreadyAssociated")) throw err;
      }
    });
  }

  async function read(id: string): Promise<InternetGatewayOut | undefined> {
    const res = await attempt(act("read", id), () =>
      orGone(GONE, () => ec2.send(new DescribeInternetGatewaysCommand({ InternetGatewayIds: [id] }))),
    );
    const igw = res?.InternetGateways?.[0];
    return igw ? toOut(igw) : undefined;
  }

  /** Every gateway carrying one node's tags (more than one only after a lost answer). */
  async function listOwn(tags: StackTags): Promise<InternetGateway[]> {
    const res = await attempt(act("find", tags.key), () => ec2.send(new DescribeInternetGatewaysCommand({ Filters: tagFilters(tags) })));
    return res.InternetGateways ?? [];
  }

  const kind: ResourceKind<InternetGatewaySpec, InternetGatewayOut> = {
    type: TYPE,
    read,
    async find(tags) {
      const igw = firstOwned(await listOwn(tags));
      return igw ? { id: igw.InternetGatewayId!, out: toOut(igw) } : undefined;
    },
    async create(spec, ctx) {
      const action = act("create", ctx.tags.key);
      // CreateInternetGateway takes no token: a duplicate left by a lost answer is deleted (detached first if need be).
      const res = await createOnce(env, ctx, {
        action,
        type: TYPE,
        send: () => ec2.send(new CreateInternetGatewayCommand({ TagSpecifications: tagSpecs(ctx.tags, "internet-gateway") })),
        idOf: (r) => r.InternetGateway!.InternetGatewayId!,
        listOwn: async () => (await listOwn(ctx.tags)).map((g) => g.InternetGatewayId!),
        remove: (id) => kind.delete(id, undefined, ctx),
      });
      const id = res.InternetGateway!.InternetGatewayId!;
      // Just created: the attach may not see the gateway yet, so its not-found is retried for a while.
      await retryNotFound(env, GONE, () => attach(action, id, spec.vpcId));
      return { id, out: { internetGatewayId: id, vpcId: spec.vpcId } };
    },
    async delete(id, _out, ctx) {
      const action = act("delete", ctx.tags.key);
      // Detach first (AWS refuses to delete an attached gateway); read the live attachment rather than trust state.
      const current = await read(id);
      if (!current) return;
      if (current.vpcId) {
        await attempt(action, () =>
          orGone([...GONE, "Gateway.NotAttached"], () =>
            ec2.send(new DetachInternetGatewayCommand({ InternetGatewayId: id, VpcId: current.vpcId! })),
          ),
        );
      }
      await attempt(action, () => orGone(GONE, () => ec2.send(new DeleteInternetGatewayCommand({ InternetGatewayId: id }))));
    },
    diff(spec, out) {
      if (out.vpcId === spec.vpcId) return { result: "same" };
      if (!out.vpcId) return { result: "update", reason: "not attached to the VPC" };
      return { result: "replace", reason: `attached to ${out.vpcId}, not ${spec.vpcId}` };
    },
    async update(id, spec) {
      await attach(act("update", id), id, spec.vpcId);
      return { internetGatewayId: id, vpcId: spec.vpcId };
    },
  };
  return kind;
}

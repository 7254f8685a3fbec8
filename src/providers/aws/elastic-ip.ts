import {
  AllocateAddressCommand,
  AssociateAddressCommand,
  DescribeAddressesCommand,
  DisassociateAddressCommand,
  ReleaseAddressCommand,
  type Address,
} from "@aws-sdk/client-ec2";
import type { ResourceKind, StackTags } from "../../engine/types.js";
import { createOnce } from "./lost-answers.js";
import { actions, attempt, firstOwned, orGone, retryNotFound, tagFilters, tagSpecs, type AwsKindEnv } from "./shared.js";

/** Desired Elastic IP: the instance it points at. */
export interface ElasticIpSpec {
  instanceId: string;
}

/** An Elastic IP as recorded in state. */
export interface ElasticIpOut {
  allocationId: string;
  publicIp: string;
  /** The instance it is associated with now; undefined = unassociated. */
  instanceId?: string;
  associationId?: string;
}

const TYPE = "aws.ec2.elastic-ip";
const GONE = ["InvalidAllocationID.NotFound"];

function toOut(a: Address): ElasticIpOut {
  return { allocationId: a.AllocationId!, publicIp: a.PublicIp!, instanceId: a.InstanceId, associationId: a.AssociationId };
}

/**
 * The server's stable public address with its association: the address the
 * Waypoint certificate is signed for, so it survives an instance replacement
 * (diff says "update" and the address is re-associated, not re-allocated).
 */
export function elasticIpKind(env: AwsKindEnv): ResourceKind<ElasticIpSpec, ElasticIpOut> {
  const { ec2 } = env.clients;
  const act = actions(TYPE, env.region);

  async function read(id: string): Promise<ElasticIpOut | undefined> {
    const res = await attempt(act("read", id), () => orGone(GONE, () => ec2.send(new DescribeAddressesCommand({ AllocationIds: [id] }))));
    const a = res?.Addresses?.[0];
    return a ? toOut(a) : undefined;
  }

  async function associate(action: string, allocationId: string, instanceId: string): Promise<string | undefined> {
    const res = await attempt(action, () =>
      // AllowReassociation: moving the address from a replaced instance is the point of keeping it.
      ec2.send(new AssociateAddressCommand({ AllocationId: allocationId, InstanceId: instanceId, AllowReassociation: true })),
    );
    return res.AssociationId;
  }

  /** Every address carrying one node's tags (more than one only after a lost answer). */
  async function listOwn(tags: StackTags): Promise<Address[]> {
    const res = await attempt(act("find", tags.key), () => ec2.send(new DescribeAddressesCommand({ Filters: tagFilters(tags) })));
    return res.Addresses ?? [];
  }

  const kind: ResourceKind<ElasticIpSpec, ElasticIpOut> = {
    type: TYPE,
    read,
    async find(tags) {
      const a = firstOwned(await listOwn(tags));
      return a ? { id: a.AllocationId!, out: toOut(a) } : undefined;
    },
    async create(spec, ctx) {
      const action = act("create", ctx.tags.key);
      // AllocateAddress takes no token: an address allocated twice after a lost answer is released (disassociated first if need be).
      const res = await createOnce(env, ctx, {
        action,
        type: TYPE,
        send: () => ec2.send(new AllocateAddressCommand({ Domain: "vpc", TagSpecifications: tagSpecs(ctx.tags, "elastic-ip") })),
        idOf: (r) => r.AllocationId!,
        listOwn: async () => (await listOwn(ctx.tags)).map((a) => a.AllocationId!),
        remove: (id) => kind.delete(id, undefined, ctx),
      });
      const allocationId = res.AllocationId!;
      // Just allocated: the association may not see the address yet, so its not-found is retried for a while.
      const associationId = await retryNotFound(env, GONE, () => associate(action, allocationId, spec.instanceId));
      return { id: allocationId, out: { allocationId, publicIp: res.PublicIp!, instanceId: spec.instanceId, associationId } };
    },
    async delete(id, _out, ctx) {
      const action = act("delete", ctx.tags.key);
      const current = await read(id);
      if (!current) return;
      if (current.associationId) {
        await attempt(action, () =>
          orGone(["InvalidAssociationID.NotFound"], () => ec2.send(new DisassociateAddressCommand({ AssociationId: current.associationId }))),
        );
      }
      await attempt(action, () => orGone(GONE, () => ec2.send(new ReleaseAddressCommand({ AllocationId: id }))));
    },
    diff(spec, out) {
      if (out.instanceId === spec.instanceId) return { result: "same" };
      return { result: "update", reason: out.instanceId ? `associated with ${out.instanceId}` : "not associated" };
    },
    async update(id, spec, out) {
      const associationId = await associate(act("update", id), id, spec.instanceId);
      return { ...out, instanceId: spec.instanceId, associationId };
    },
  };
  return kind;
}

import {
  AssociateRouteTableCommand,
  CreateRouteCommand,
  CreateRouteTableCommand,
  DeleteRouteTableCommand,
  DescribeRouteTablesCommand,
  DisassociateRouteTableCommand,
  ReplaceRouteCommand,
  type RouteTable,
} from "@aws-sdk/client-ec2";
import type { ResourceKind } from "../../engine/types.js";
import { WaitTimeout } from "../scaffold.js";
import { sendWithToken } from "./idempotency.js";
import { actions, attempt, firstOwned, isErrorCode, orGone, retryNotFound, sameSet, setDelta, tagFilters, tagSpecs, untilVisible, type AwsKindEnv } from "./shared.js";

/** Desired public route table: the default route through the gateway, associated with these subnets. */
export interface RouteTableSpec {
  vpcId: string;
  internetGatewayId: string;
  subnetIds: string[];
}

/** A route table as recorded in state: where 0.0.0.0/0 goes and which subnets use it. */
export interface RouteTableOut {
  routeTableId: string;
  vpcId: string;
  /** Target of the 0.0.0.0/0 route; undefined when the route is missing. */
  defaultGatewayId?: string;
  /** "blackhole" when the default route's gateway was detached or deleted: the server is cut off. */
  defaultRouteState?: string;
  subnetIds: string[];
}

const TYPE = "aws.ec2.route-table";
const GONE = ["InvalidRouteTableID.NotFound"];
const DEFAULT_ROUTE = "0.0.0.0/0";
/** How long a table answered for a retried token may stay invisible before it counts as gone (a new one shows in seconds). */
const RETRIED_VISIBLE = { intervalMs: 2_000, timeoutMs: 30_000 };

function toOut(rt: RouteTable): RouteTableOut {
  const route = rt.Routes?.find((r) => r.DestinationCidrBlock === DEFAULT_ROUTE);
  return {
    routeTableId: rt.RouteTableId!,
    vpcId: rt.VpcId!,
    defaultGatewayId: route?.GatewayId,
    defaultRouteState: route?.State,
    subnetIds: (rt.Associations ?? []).filter((a) => a.SubnetId && !a.Main).map((a) => a.SubnetId!).sort(),
  };
}

function isBlackholed(out: RouteTableOut): boolean {
  return out.defaultRouteState === "blackhole";
}

/**
 * The public route table with its default route and subnet associations as
 * one node: three calls that only make sense together. Anything missing
 * after an interrupted create (or removed out of band) shows up in diff as
 * "update", and update() adds or replaces just that part.
 */
export function routeTableKind(env: AwsKindEnv): ResourceKind<RouteTableSpec, RouteTableOut> {
  const { ec2 } = env.clients;
  const act = actions(TYPE, env.region);

  async function read(id: string): Promise<RouteTableOut | undefined> {
    const res = await attempt(act("read", id), () =>
      orGone(GONE, () => ec2.send(new DescribeRouteTablesCommand({ RouteTableIds: [id] }))),
    );
    const rt = res?.RouteTables?.[0];
    return rt ? toOut(rt) : undefined;
  }

  /**
   * Brings routes and associations of an existing table in line with the spec.
   * `justCreated`: the table may not be visible to these calls yet, so their
   * not-found is retried for a while instead of failing.
   */
  async function converge(action: string, id: string, spec: RouteTableSpec, current: RouteTableOut, justCreated = false): Promise<RouteTableOut> {
    const call = <T>(fn: () => Promise<T>): Promise<T> => (justCreated ? retryNotFound(env, GONE, fn) : fn());
    if (current.defaultGatewayId !== spec.internetGatewayId || isBlackholed(current)) {
      // A blackholed route is replaced with the same one: AWS re-evaluates it against the gateway
      // the internet-gateway node (a dependency, converged first) has attached again.
      const route = { RouteTableId: id, DestinationCidrBlock: DEFAULT_ROUTE, GatewayId: spec.internetGatewayId };
      await attempt(action, async () => {
        if (current.defaultGatewayId) await call(() => ec2.send(new ReplaceRouteCommand(route)));
        else {
          try {
            await call(() => ec2.send(new CreateRouteCommand(route)));
          } catch (err) {
            // The route is there already: a create retried after its answer was lost, or one made meanwhile; point it at our gateway.
            if (!isErrorCode(err, "RouteAlreadyExists")) throw err;
            await ec2.send(new ReplaceRouteCommand(route));
          }
        }
      });
    }
    const { missing, extra } = setDelta(spec.subnetIds, current.subnetIds);
    for (const subnetId of missing) {
      await attempt(action, async () => {
        try {
          await call(() => ec2.send(new AssociateRouteTableCommand({ RouteTableId: id, SubnetId: subnetId })));
        } catch (err) {
          if (!isErrorCode(err, "Resource.AlreadyAssociated")) throw err;
        }
      });
    }
    if (extra.length > 0) await disassociate(action, id, extra);
    return { routeTableId: id, vpcId: current.vpcId, defaultGatewayId: spec.internetGatewayId, subnetIds: [...spec.subnetIds].sort() };
  }

  /** Removes the table's associations with these subnets (all when omitted); needs the association ids, hence a describe. */
  async function disassociate(action: string, id: string, subnetIds?: string[]): Promise<void> {
    const res = await attempt(action, () => orGone(GONE, () => ec2.send(new DescribeRouteTablesCommand({ RouteTableIds: [id] }))));
    const assocs = (res?.RouteTables?.[0]?.Associations ?? []).filter(
      (a) => !a.Main && a.SubnetId && (!subnetIds || subnetIds.includes(a.SubnetId)),
    );
    for (const a of assocs) {
      await attempt(action, () =>
        orGone(["InvalidAssociationID.NotFound"], () =>
          ec2.send(new DisassociateRouteTableCommand({ AssociationId: a.RouteTableAssociationId! })),
        ),
      );
    }
  }

  return {
    type: TYPE,
    read,
    async find(tags) {
      const res = await attempt(act("find", tags.key), () => ec2.send(new DescribeRouteTablesCommand({ Filters: tagFilters(tags) })));
      const rt = firstOwned(res.RouteTables);
      return rt ? { id: rt.RouteTableId!, out: toOut(rt) } : undefined;
    },
    async create(spec, ctx) {
      const action = act("create", ctx.tags.key);
      const send = (token: string) =>
        ec2.send(
          new CreateRouteTableCommand({
            VpcId: spec.vpcId,
            // CreateRouteTable is one of the two EC2 calls that take a token: a retried call returns the same table.
            ClientToken: token,
            TagSpecifications: tagSpecs(ctx.tags, "route-table"),
          }),
        );
      const res = await attempt(action, () =>
        sendWithToken(ctx, {
          send,
          // A token from an interrupted run may name a table deleted since; a fresh token's table cannot be gone.
          deadAnswer: async (r) => {
            if (!ctx.retried) return undefined;
            const id = r.RouteTable!.RouteTableId!;
            const seen = await untilVisible(env, `route table ${id}`, () => read(id), RETRIED_VISIBLE).catch((err) => {
              if (err instanceof WaitTimeout) return undefined;
              throw err;
            });
            return seen ? undefined : `returned route table ${id}, which no longer exists`;
          },
        }),
      );
      const rt = toOut(res.RouteTable!);
      const out = await converge(action, rt.routeTableId, spec, rt, true);
      return { id: rt.routeTableId, out };
    },
    async delete(id, _out, ctx) {
      const action = act("delete", ctx.tags.key);
      await disassociate(action, id);
      await attempt(action, () => orGone(GONE, () => ec2.send(new DeleteRouteTableCommand({ RouteTableId: id }))));
    },
    diff(spec, out) {
      if (spec.vpcId !== out.vpcId) return { result: "replace", reason: "the VPC changed" };
      if (out.defaultGatewayId !== spec.internetGatewayId) return { result: "update", reason: "the default route is missing or points elsewhere" };
      if (isBlackholed(out)) return { result: "update", reason: "the default route is a blackhole (its gateway was detached or deleted)" };
      if (!sameSet(spec.subnetIds, out.subnetIds)) return { result: "update", reason: "subnet associations differ" };
      return { result: "same" };
    },
    async update(id, spec, out) {
      return converge(act("update", id), id, spec, out);
    },
  };
}

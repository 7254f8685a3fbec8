import type { vpcaccess_v1 } from "googleapis/build/src/apis/vpcaccess/v1.js";
import type { ResourceKind } from "../../engine/types.js";
import { PilotError } from "../../errors.js";
import { isAlreadyExists } from "./errors.js";
import { actions, attempt, createOrAdopt, lastSegment, orGone, waitFor, waitLro, type GcpKindEnv, type LongRunningOperation } from "./shared.js";

/** Desired Serverless VPC Access connector: Cloud Run apps reach the database through it. */
export interface VpcConnectorSpec {
  /** Within its 25-character limit, derived from the stack (it takes no labels). */
  name: string;
  networkName: string;
  /** A /28 of the network that nothing else uses. */
  cidr: string;
}

/** A connector as recorded in state (id = its full name, projects/P/locations/R/connectors/N). */
export interface VpcConnectorOut {
  name: string;
  network: string;
  cidr: string;
  state: string;
}

const TYPE = "gcp.vpcaccess.connector";
/** A connector usually needs 1-3 minutes. */
const TIMEOUT_MS = 20 * 60_000;

/** "pilot-<stack, up to 10>-<lineage8>": at most 25 characters, as the API allows. */
export function connectorName(stack: string, lineage: string): string {
  return `pilot-${stack.slice(0, 10)}-${lineage.slice(0, 8)}`;
}

function toOut(c: vpcaccess_v1.Schema$Connector): VpcConnectorOut {
  return { name: lastSegment(c.name), network: c.network ?? "", cidr: c.ipCidrRange ?? "", state: c.state ?? "STATE_UNSPECIFIED" };
}

/**
 * The Serverless VPC Access connector. It has no labels or description, so
 * its name carries the stack and lineage, and one of that name is ours.
 */
export function vpcConnectorKind(env: GcpKindEnv): ResourceKind<VpcConnectorSpec, VpcConnectorOut> {
  const { vpcaccess } = env.clients;
  const act = actions(TYPE, env.region);
  const parent = `projects/${env.project}/locations/${env.region}`;
  const fullName = (name: string) => `${parent}/connectors/${name}`;
  const get = (name: string) => orGone(async () => (await vpcaccess.projects.locations.connectors.get({ name })).data);
  const getOp = async (name: string): Promise<LongRunningOperation> => (await vpcaccess.projects.locations.operations.get({ name })).data;

  async function untilReady(action: string, name: string, progress: (m: string) => void): Promise<vpcaccess_v1.Schema$Connector> {
    const c = await attempt(action, () =>
      waitFor(env, { what: `VPC connector ${lastSegment(name)} to be READY`, intervalMs: 10_000, timeoutMs: TIMEOUT_MS, progress }, async () => {
        const c = await get(name);
        if (!c) throw new PilotError(`VPC connector ${lastSegment(name)} disappeared while being created.`);
        if (c.state === "ERROR") throw new PilotError(`VPC connector ${lastSegment(name)} is in ERROR.`, { hint: "Check that its range is free in the network, then run `pilot teardown` and try again." });
        return { done: c.state === "READY", status: c.state ?? "CREATING", value: c };
      }),
    );
    return c!;
  }

  return {
    type: TYPE,
    async read(id) {
      const c = await attempt(act("read", id), () => get(id));
      return c ? toOut(c) : undefined;
    },
    async find(tags, spec) {
      if (!spec) return undefined;
      const c = await attempt(act("find", tags.key), () => get(fullName(spec.name)));
      return c ? { id: c.name!, out: toOut(c) } : undefined;
    },
    async create(spec, ctx) {
      const action = act("create", ctx.tags.key);
      const name = fullName(spec.name);
      const result = await createOrAdopt({
        action,
        name: `VPC connector ${spec.name}`,
        create: async () =>
          (
            await vpcaccess.projects.locations.connectors.create({
              parent,
              connectorId: spec.name,
              // The smallest connector: e2-micro instances, 2 to 3 of them (Google's minimums).
              requestBody: { network: spec.networkName, ipCidrRange: spec.cidr, machineType: "e2-micro", minInstances: 2, maxInstances: 3 },
            })
          ).data,
        isAlreadyExists,
        existing: () => get(name),
        // The name carries the stack and its lineage; it takes nothing else to check.
        isOurs: (c) => lastSegment(c.network) === spec.networkName,
      });
      if (result.created) await attempt(action, () => waitLro(env, result.created, getOp, { what: `VPC connector ${spec.name}`, progress: ctx.progress, intervalMs: 10_000, timeoutMs: TIMEOUT_MS }));
      const c = await untilReady(action, name, ctx.progress);
      return { id: name, out: toOut(c) };
    },
    async delete(id, _out, ctx) {
      await attempt(act("delete", ctx.tags.key), async () => {
        const op = await orGone(async () => (await vpcaccess.projects.locations.connectors.delete({ name: id })).data);
        if (op) await waitLro(env, op, getOp, { what: `delete VPC connector ${lastSegment(id)}`, progress: ctx.progress, intervalMs: 10_000, timeoutMs: TIMEOUT_MS });
      });
    },
    diff(spec, out) {
      if (spec.networkName !== lastSegment(out.network)) return { result: "replace", reason: "the network changed" };
      if (spec.cidr !== out.cidr) return { result: "replace", reason: `range ${out.cidr} → ${spec.cidr}` };
      // Adopted from an interrupted run while Google is still creating it: wait until it is usable.
      if (out.state === "CREATING") return { result: "update", reason: "still being created; waiting until it is READY" };
      return { result: "same" };
    },
    async update(id) {
      return toOut(await untilReady(act("update", id), id, () => undefined));
    },
  };
}

/**
 * Serverless VPC Access connectors: create (`?connectorId=`), get, list,
 * delete, and their operations. A connector is CREATING until its operation
 * finishes, then READY; it needs an existing network and a free /28 (or an
 * existing subnetwork), and while it exists compute refuses to delete that
 * network or subnetwork.
 */
import { alreadyExists, failedPrecondition, invalid, notFound } from "./errors.js";
import { timestamp, uuid } from "./ids.js";
import { overlaps, parseCidr } from "./ip.js";
import { isRegion } from "./compute/geo.js";
import { paginate } from "./list-util.js";
import type { Call, HandlerTable, Obj } from "./types.js";
import { clone, queryString } from "./types.js";

interface Connector {
  project: string;
  region: string;
  id: string;
  resource: Obj;
}

export class VpcState {
  /** By full name `projects/P/locations/R/connectors/ID`. */
  readonly connectors = new Map<string, Connector>();

  connectorUsingNetwork(project: string, network: string): string | undefined {
    for (const [name, c] of this.connectors) if (c.project === project && c.resource.network === network) return name;
    return undefined;
  }

  connectorUsingSubnet(project: string, subnet: string): string | undefined {
    for (const [name, c] of this.connectors) {
      if (c.project === project && c.resource.subnet?.name === subnet && (c.resource.subnet.projectId ?? project) === project) return name;
    }
    return undefined;
  }
}

const CONNECTOR_ID = /^[a-z][-a-z0-9]{0,23}[a-z0-9]$/;

function parseParent(call: Call, parent: string): { project: string; region: string } {
  const m = /^projects\/([^/]+)\/locations\/([^/]+)$/.exec(parent);
  if (!m) throw invalid(`Invalid parent '${parent}'.`, "parent");
  if (!isRegion(m[2])) throw invalid(`Location '${m[2]}' is not a valid region.`, "parent");
  return { project: call.world.projects.idOf(m[1]), region: m[2] };
}

function requireConnector(call: Call): Connector {
  const c = call.world.vpc.connectors.get(call.params.name);
  if (!c) throw notFound(`Resource '${call.params.name}' was not found`);
  return c;
}

function metadata(call: Call, target: string, verb: string): Obj {
  return {
    "@type": "type.googleapis.com/google.cloud.vpcaccess.v1.OperationMetadata",
    method: `google.cloud.vpcaccess.v1.VpcAccessService.${verb}Connector`,
    createTime: timestamp(call.world.now()),
    target,
  };
}

export const vpcaccessHandlers: HandlerTable = {
  "vpcaccess.projects.locations.connectors.create": (call) => {
    const w = call.world;
    const { project, region } = parseParent(call, call.params.parent);
    const id = queryString(call.query, "connectorId") ?? "";
    if (!CONNECTOR_ID.test(id)) {
      throw invalid(`Invalid connector ID '${id}': must match ^[a-z][-a-z0-9]{0,23}[a-z0-9]$.`, "connectorId");
    }
    const name = `${call.params.parent}/connectors/${id}`;
    if (w.vpc.connectors.has(name)) throw alreadyExists(`Requested entity already exists`);
    const body = clone(call.body);
    delete body.state;
    delete body.connectedProjects;
    const resource: Obj = { ...body, name };
    if (body.subnet?.name) {
      const subProject = body.subnet.projectId ?? project;
      const sub = w.compute.get(`projects/${subProject}/regions/${region}/subnetworks/${body.subnet.name}`);
      if (!sub) throw invalid(`Subnetwork '${body.subnet.name}' not found in region '${region}'.`, "subnet.name");
      const range = parseCidr(sub.resource.ipCidrRange);
      if (!range || range.prefix !== 28) throw invalid(`Subnetwork '${body.subnet.name}' must have a /28 range.`, "subnet.name");
      delete resource.ipCidrRange;
      resource.network ??= String(sub.resource.network).replace(/^.*\/networks\//, "");
    } else {
      const netName = String(body.network ?? "").replace(/^.*\/networks\//, "");
      if (!netName) throw invalid("Either network and ipCidrRange, or subnet, must be given.", "network");
      const net = w.compute.get(`projects/${project}/global/networks/${netName}`);
      if (!net) throw invalid(`Network '${netName}' does not exist in project '${project}'.`, "network");
      const range = parseCidr(String(body.ipCidrRange ?? ""));
      if (!range || range.prefix !== 28) {
        throw invalid(`Invalid IP CIDR range '${body.ipCidrRange ?? ""}': must be an unused /28 range.`, "ipCidrRange");
      }
      for (const r of w.compute.all()) {
        if (r.collection !== "subnetworks" || r.resource.network !== net.resource.selfLink) continue;
        if (overlaps(range, parseCidr(r.resource.ipCidrRange)!)) {
          throw invalid(`IP CIDR range '${range.text}' overlaps subnetwork '${r.name}'.`, "ipCidrRange");
        }
      }
      for (const other of w.vpc.connectors.values()) {
        if (other.project === project && other.resource.network === netName && other.resource.ipCidrRange && overlaps(range, parseCidr(other.resource.ipCidrRange)!)) {
          throw invalid(`IP CIDR range '${range.text}' is already used by connector '${other.resource.name}'.`, "ipCidrRange");
        }
      }
      resource.network = netName;
    }
    resource.machineType ??= "e2-micro";
    resource.minInstances ??= 2;
    resource.maxInstances ??= 10;
    resource.minThroughput ??= 200;
    resource.maxThroughput ??= 1000;
    resource.state = "CREATING";
    const c: Connector = { project, region, id, resource };
    w.vpc.connectors.set(name, c);
    const opName = `${call.params.parent}/operations/${uuid()}`;
    return w.lro.start(call, {
      name: opName,
      kind: "vpcaccess.connectors",
      metadata: metadata(call, name, "Create"),
      finish: () => {
        resource.state = "READY";
        return { "@type": "type.googleapis.com/google.cloud.vpcaccess.v1.Connector", ...clone(resource) };
      },
      onFail: () => {
        w.vpc.connectors.delete(name);
      },
    });
  },

  "vpcaccess.projects.locations.connectors.get": (call) => clone(requireConnector(call).resource),

  "vpcaccess.projects.locations.connectors.list": (call) => {
    const w = call.world;
    parseParent(call, call.params.parent);
    const prefix = `${call.params.parent}/connectors/`;
    const items = [...w.vpc.connectors.entries()].filter(([k]) => k.startsWith(prefix)).map(([, c]) => clone(c.resource));
    const { page, nextPageToken } = paginate(items, queryString(call.query, "pageSize"), queryString(call.query, "pageToken"), 100);
    const out: Obj = {};
    if (page.length) out.connectors = page;
    if (nextPageToken) out.nextPageToken = nextPageToken;
    return out;
  },

  "vpcaccess.projects.locations.connectors.delete": (call) => {
    const w = call.world;
    const c = requireConnector(call);
    if (c.resource.state !== "READY" && c.resource.state !== "ERROR") {
      throw failedPrecondition(`Connector '${call.params.name}' is ${c.resource.state}; wait for its operation to finish.`);
    }
    const before = c.resource.state;
    c.resource.state = "DELETING";
    return w.lro.start(call, {
      name: `${call.params.name.replace(/\/connectors\/[^/]+$/, "")}/operations/${uuid()}`,
      kind: "vpcaccess.connectors",
      metadata: metadata(call, call.params.name, "Delete"),
      finish: () => {
        w.vpc.connectors.delete(call.params.name);
        return { "@type": "type.googleapis.com/google.protobuf.Empty" };
      },
      onFail: () => {
        c.resource.state = before;
      },
    });
  },

  "vpcaccess.projects.locations.operations.get": (call) => call.world.lro.get("vpcaccess", call.params.name),
};

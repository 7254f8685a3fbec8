/**
 * Cloud SQL instances: insert/get/list/delete/patch. What Cloud SQL checks
 * up front is checked here too: the name (unique, and not one deleted in the
 * last week), a tier that exists for the edition (PostgreSQL 16+ and MySQL
 * 8.4+ default to ENTERPRISE_PLUS, whose tiers are db-perf-optimized-N-*),
 * some connectivity (public IP, or a private network that has a private
 * services connection). The instance is PENDING_CREATE until its operation
 * finishes, then RUNNABLE with its IP addresses, connectionName and service
 * account.
 */
import { alreadyExists, failedPrecondition, invalid } from "../errors.js";
import { hex, timestamp } from "../ids.js";
import { formatIp, parseCidr } from "../ip.js";
import { applyFilter, paginate } from "../list-util.js";
import { isRegion } from "../compute/geo.js";
import { checkLabels } from "../compute/store.js";
import type { Call, HandlerTable, Obj } from "../types.js";
import { clone, queryString } from "../types.js";
import { startSqlOp } from "./operations.js";
import { requireIdle, SQL_BASE, type SqlInstance } from "./state.js";

const WEEK_MS = 7 * 86_400_000;
const ENTERPRISE_TIER = /^db-(f1-micro|g1-small|custom-\d+-\d+|n1-(standard|highmem)-\d+|lightweight-\d+|standard-\d+|highmem-\d+)$/;
const ENTERPRISE_PLUS_TIER = /^db-perf-optimized-N-\d+$/;

function defaultEdition(version: string): string {
  const pg = /^POSTGRES_(\d+)/.exec(version);
  if (pg) return Number(pg[1]) >= 16 ? "ENTERPRISE_PLUS" : "ENTERPRISE";
  return version === "MYSQL_8_4" || version.startsWith("MYSQL_9") ? "ENTERPRISE_PLUS" : "ENTERPRISE";
}

function checkTier(tier: unknown, edition: string): void {
  if (typeof tier !== "string" || !tier) throw invalid("Invalid request: Missing parameter: settings.tier.", "settings.tier");
  const ok = edition === "ENTERPRISE_PLUS" ? ENTERPRISE_PLUS_TIER.test(tier) : ENTERPRISE_TIER.test(tier);
  if (!ok) throw invalid(`Invalid Tier (${tier}) for (${edition}) Edition. Use a different tier or edition.`, "settings.tier");
}

/** `projects/P/global/networks/N` (leading slash allowed, P an id or a number). */
function parsePrivateNetwork(call: Call, value: string): { project: string; name: string } {
  const m = /^\/?projects\/([^/]+)\/global\/networks\/([^/]+)$/.exec(value.replace(/^https:\/\/www\.googleapis\.com\/compute\/v1\//, ""));
  if (!m) throw invalid(`Invalid request: Incorrect network format ${value}; expected projects/{project}/global/networks/{network}.`, "settings.ipConfiguration.privateNetwork");
  return { project: call.world.projects.idOf(m[1]), name: m[2] };
}

/** Checks the connectivity settings; returns the private network, if any. */
function checkConnectivity(call: Call, settings: Obj, engine: string): { project: string; name: string } | undefined {
  const w = call.world;
  const ipc = (settings.ipConfiguration ??= {});
  ipc.ipv4Enabled ??= true;
  if (!ipc.privateNetwork) {
    if (!ipc.ipv4Enabled && !ipc.pscConfig?.pscEnabled) {
      throw invalid("Invalid request: At least one of Public IP or Private IP or PSC connectivity must be enabled.", "settings.ipConfiguration");
    }
    return undefined;
  }
  const pn = parsePrivateNetwork(call, String(ipc.privateNetwork));
  if (!w.compute.get(`projects/${pn.project}/global/networks/${pn.name}`)) {
    throw invalid(`Invalid request: Incorrect Service Networking config for instance: ${pn.project}:NETWORK_NOT_FOUND.`, "settings.ipConfiguration.privateNetwork");
  }
  if (!w.networking.has(pn.project, pn.name)) {
    throw failedPrecondition(
      `Failed to create instance because the network doesn't have at least 1 private services connection. Please see https://cloud.google.com/sql/docs/${engine}/private-ip#network_requirements for how to create this connection.`,
    );
  }
  if (ipc.allocatedIpRange) {
    const conn = w.networking.connections.get(`${pn.project}/${pn.name}`)!;
    if (!conn.reservedPeeringRanges.includes(ipc.allocatedIpRange)) {
      throw invalid(`Invalid request: the allocated IP range '${ipc.allocatedIpRange}' is not part of the private services connection of network '${pn.name}'.`, "settings.ipConfiguration.allocatedIpRange");
    }
  }
  ipc.privateNetwork = `projects/${pn.project}/global/networks/${pn.name}`;
  return pn;
}

/** A private IP from the connection's (or the chosen) allocated range, distinct from other instances'. */
function privateIp(call: Call, inst: SqlInstance): string {
  const w = call.world;
  const pn = inst.privateNetwork!;
  const conn = w.networking.connections.get(`${pn.project}/${pn.name}`);
  const rangeName = inst.resource.settings.ipConfiguration.allocatedIpRange ?? conn?.reservedPeeringRanges[0];
  const addr = rangeName ? w.compute.get(`projects/${pn.project}/global/addresses/${rangeName}`) : undefined;
  const cidr = addr ? parseCidr(`${addr.resource.address}/${addr.resource.prefixLength}`) : parseCidr("10.100.0.0/16");
  const taken = new Set<string>();
  for (const other of w.sql.instances.values()) for (const ip of other.resource.ipAddresses ?? []) taken.add(ip.ipAddress);
  for (let i = 3; cidr && i < 2 ** (32 - cidr.prefix) - 1; i++) {
    const ip = formatIp(cidr.base + i);
    if (!taken.has(ip)) return ip;
  }
  return "10.100.0.3";
}

let publicCounter = 0;
function publicIp(): string {
  publicCounter = (publicCounter + 1) % 65000;
  return formatIp(parseCidr("198.18.0.0/15")!.base + 10 + publicCounter);
}

function render(i: SqlInstance): Obj {
  const out = clone(i.resource);
  delete out.rootPassword;
  return out;
}

function engineOf(version: string): "postgres" | "mysql" | "sqlserver" {
  return version.startsWith("POSTGRES") ? "postgres" : version.startsWith("MYSQL") ? "mysql" : "sqlserver";
}

/** The databases and users a new instance comes with. */
function seedDefaults(call: Call, inst: SqlInstance, rootPassword: string | undefined): void {
  const w = call.world;
  const engine = engineOf(inst.resource.databaseVersion);
  const dbs = engine === "postgres" ? ["postgres"] : engine === "mysql" ? ["information_schema", "mysql", "performance_schema", "sys"] : ["master", "model", "msdb", "tempdb"];
  for (const name of dbs) {
    w.sql.databases.set(`${inst.project}/${inst.name}/${name}`, {
      kind: "sql#database",
      charset: engine === "postgres" ? "UTF8" : "utf8mb4",
      collation: engine === "postgres" ? "en_US.UTF8" : "utf8mb4_0900_ai_ci",
      etag: hex(16),
      name,
      instance: inst.name,
      selfLink: `${SQL_BASE}projects/${inst.project}/instances/${inst.name}/databases/${name}`,
      project: inst.project,
    });
  }
  const user = engine === "postgres" ? { name: "postgres", host: "" } : engine === "mysql" ? { name: "root", host: "%" } : { name: "sqlserver", host: "" };
  w.sql.users.set(`${inst.project}/${inst.name}/${user.name}@${user.host}`, {
    kind: "sql#user",
    etag: hex(16),
    name: user.name,
    ...(user.host ? { host: user.host } : {}),
    instance: inst.name,
    project: inst.project,
    password: rootPassword,
  });
}

function dropChildren(call: Call, inst: SqlInstance): void {
  const w = call.world;
  const prefix = `${inst.project}/${inst.name}/`;
  for (const k of [...w.sql.databases.keys()]) if (k.startsWith(prefix)) w.sql.databases.delete(k);
  for (const k of [...w.sql.users.keys()]) if (k.startsWith(prefix)) w.sql.users.delete(k);
}

function insert(call: Call): object {
  const w = call.world;
  const project = w.projects.idOf(call.params.project);
  const body = clone(call.body);
  const name = body.name;
  if (!name) throw invalid("Invalid request: Missing parameter: name.", "name");
  if (!/^[a-z](?:[-a-z0-9]*[a-z0-9])?$/.test(name) || name.length + project.length > 97) {
    throw invalid(`Invalid request: instance name (${name}).`, "name");
  }
  const key = `${project}/${name}`;
  if (w.sql.instances.has(key)) throw alreadyExists("The Cloud SQL instance already exists.", "instanceAlreadyExists");
  const deleted = w.sql.deletedAt.get(key);
  if (deleted !== undefined && w.now() - deleted < WEEK_MS) {
    throw alreadyExists(
      "The Cloud SQL instance already exists. When you delete an instance, you can't reuse the name of the deleted instance until one week from the deletion date.",
      "instanceAlreadyExists",
    );
  }
  if (!body.settings) throw invalid("Invalid request: Missing parameter: settings.", "settings");
  const version = body.databaseVersion ?? "MYSQL_8_0";
  if (version === "SQL_DATABASE_VERSION_UNSPECIFIED") throw invalid("Invalid request: Invalid database version.", "databaseVersion");
  const region = body.region ?? "us-central1";
  if (!isRegion(region)) throw invalid(`Invalid request: Region (${region}) is not valid.`, "region");
  const settings: Obj = body.settings;
  const edition = settings.edition && settings.edition !== "EDITION_UNSPECIFIED" ? settings.edition : defaultEdition(version);
  checkTier(settings.tier, edition);
  const labels = checkLabels(settings.userLabels, "settings.userLabels");
  const engine = engineOf(version);
  const pn = checkConnectivity(call, settings, engine);
  const number = w.projects.numberOf(project);
  const zone = settings.locationPreference?.zone ?? `${region}-${["a", "b", "c"][parseInt(hex(1), 16) % 3]}`;
  const rootPassword = body.rootPassword;
  const resource: Obj = {
    kind: "sql#instance",
    state: "PENDING_CREATE",
    databaseVersion: version,
    settings: {
      authorizedGaeApplications: [],
      tier: settings.tier,
      kind: "sql#settings",
      availabilityType: "ZONAL",
      pricingPlan: "PER_USE",
      replicationType: "SYNCHRONOUS",
      activationPolicy: "ALWAYS",
      storageAutoResizeLimit: "0",
      dataDiskType: "PD_SSD",
      dataDiskSizeGb: "10",
      storageAutoResize: true,
      connectorEnforcement: "NOT_REQUIRED",
      deletionProtectionEnabled: false,
      ...settings,
      ipConfiguration: { requireSsl: false, sslMode: "ALLOW_UNENCRYPTED_AND_ENCRYPTED", ...settings.ipConfiguration },
      backupConfiguration: { kind: "sql#backupConfiguration", enabled: false, startTime: "00:00", ...(settings.backupConfiguration ?? {}) },
      locationPreference: { kind: "sql#locationPreference", zone },
      edition,
      settingsVersion: "1",
    },
    etag: hex(32),
    project,
    backendType: "SECOND_GEN",
    selfLink: `${SQL_BASE}projects/${project}/instances/${name}`,
    connectionName: `${project}:${region}:${name}`,
    name,
    region,
    gceZone: zone,
    databaseInstalledVersion: `${version}_${engine === "postgres" ? "4" : "0"}`,
    instanceType: "CLOUD_SQL_INSTANCE",
    sqlNetworkArchitecture: "NEW_NETWORK_ARCHITECTURE",
    createTime: timestamp(w.now()),
    serviceAccountEmailAddress: `p${number}-${hex(3)}@gcp-sa-cloud-sql.iam.gserviceaccount.com`,
  };
  if (Object.keys(labels).length) resource.settings.userLabels = labels;
  else delete resource.settings.userLabels;
  const inst: SqlInstance = { project, name, resource, privateNetwork: pn };
  w.sql.instances.set(key, inst);
  return startSqlOp(call, {
    project,
    instance: name,
    operationType: "CREATE",
    kind: "sqladmin.instances",
    busy: inst,
    finish: () => {
      const ips: Obj[] = [];
      if (resource.settings.ipConfiguration.ipv4Enabled) ips.push({ type: "PRIMARY", ipAddress: publicIp() });
      if (pn) ips.push({ type: "PRIVATE", ipAddress: privateIp(call, inst) });
      if (ips.length) resource.ipAddresses = ips;
      resource.state = "RUNNABLE";
      resource.maintenanceVersion = `${resource.databaseInstalledVersion}.R20261001.00_00`;
      seedDefaults(call, inst, rootPassword);
    },
    onFail: () => {
      w.sql.instances.delete(key);
    },
  });
}

function patch(call: Call): object {
  const w = call.world;
  const project = w.projects.idOf(call.params.project);
  const inst = w.sql.instance(project, call.params.instance);
  requireIdle(inst);
  const body = clone(call.body);
  for (const f of ["name", "region", "databaseVersion"] as const) {
    if (body[f] !== undefined && body[f] !== inst.resource[f]) {
      throw invalid(`Invalid request: ${f} cannot be changed (${body[f]}).`, f);
    }
  }
  const settings: Obj = { ...clone(inst.resource.settings) };
  const incoming: Obj = body.settings ?? {};
  for (const [k, v] of Object.entries(incoming)) {
    if (k === "settingsVersion" || k === "kind") continue;
    settings[k] = v && typeof v === "object" && !Array.isArray(v) && settings[k] && typeof settings[k] === "object" ? { ...settings[k], ...v } : v;
  }
  checkTier(settings.tier, settings.edition);
  const labels = checkLabels(settings.userLabels, "settings.userLabels");
  const pn = checkConnectivity(call, settings, engineOf(inst.resource.databaseVersion));
  settings.settingsVersion = String(Number(inst.resource.settings.settingsVersion ?? "1") + 1);
  if (Object.keys(labels).length) settings.userLabels = labels;
  else delete settings.userLabels;
  return startSqlOp(call, {
    project,
    instance: inst.name,
    operationType: "UPDATE",
    kind: "sqladmin.instances",
    busy: inst,
    finish: () => {
      inst.resource.settings = settings;
      inst.resource.etag = hex(32);
      const hadPrivate = Boolean(inst.privateNetwork);
      inst.privateNetwork = pn;
      if (pn && !hadPrivate) inst.resource.ipAddresses = [...(inst.resource.ipAddresses ?? []), { type: "PRIVATE", ipAddress: privateIp(call, inst) }];
      if (!settings.ipConfiguration.ipv4Enabled && inst.resource.ipAddresses) {
        inst.resource.ipAddresses = inst.resource.ipAddresses.filter((ip: Obj) => ip.type !== "PRIMARY");
      }
    },
  });
}

function remove(call: Call): object {
  const w = call.world;
  const project = w.projects.idOf(call.params.project);
  const inst = w.sql.instance(project, call.params.instance);
  requireIdle(inst);
  if (inst.resource.settings?.deletionProtectionEnabled) {
    throw invalid("The instance is protected from deletion. To allow deletion, update the instance to turn off deletion protection.", "settings.deletionProtectionEnabled");
  }
  inst.resource.state = "PENDING_DELETE";
  return startSqlOp(call, {
    project,
    instance: inst.name,
    operationType: "DELETE",
    kind: "sqladmin.instances",
    busy: inst,
    finish: () => {
      w.sql.instances.delete(`${project}/${inst.name}`);
      w.sql.deletedAt.set(`${project}/${inst.name}`, w.now());
      dropChildren(call, inst);
    },
    onFail: () => {
      inst.resource.state = "RUNNABLE";
    },
  });
}

export const sqlInstanceHandlers: HandlerTable = {
  "sql.instances.insert": insert,
  "sql.instances.patch": patch,
  "sql.instances.delete": remove,
  "sql.instances.get": (call) => {
    const w = call.world;
    return render(w.sql.instance(w.projects.idOf(call.params.project), call.params.instance));
  },
  "sql.instances.list": (call) => {
    const w = call.world;
    const project = w.projects.idOf(call.params.project);
    const all = [...w.sql.instances.values()].filter((i) => i.project === project).sort((a, b) => a.name.localeCompare(b.name)).map(render);
    const items = applyFilter(all, queryString(call.query, "filter"));
    const { page, nextPageToken } = paginate(items, queryString(call.query, "maxResults"), queryString(call.query, "pageToken"));
    const out: Obj = { kind: "sql#instancesList" };
    if (page.length) out.items = page;
    if (nextPageToken) out.nextPageToken = nextPageToken;
    return out;
  },
};


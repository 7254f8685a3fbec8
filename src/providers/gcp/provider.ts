/**
 * The GCP provider: settings, credentials and APIs, local prerequisites and
 * the stack's resource graph (DESIGN.md "Resources and the engine"). Each
 * kind lives in its own file; this module only wires them together.
 */
import { join } from "node:path";
import type { ResourceKind, StackNode } from "../../engine/types.js";
import { PilotError, UsageError, wrapError } from "../../errors.js";
import { Secret } from "../../secret.js";
import type { StackState } from "../../state/schema.js";
import { detectPublicIp } from "../access.js";
import { prepareCloudStack } from "../prepare.js";
import { readPublicKey, SSH_KEY_FILE } from "../ssh-key.js";
import { sshTarget } from "../ssh-target.js";
import type { DatabaseInfo, Provider, ProviderContext, ServerAccess } from "../types.js";
import { addressKind, type AddressOut, type AddressSpec } from "./address.js";
import { ensureApis } from "./apis.js";
import { createGcpClients, type GcpClients } from "./clients.js";
import { disabledService, isAuthError, isBusy } from "./errors.js";
import { firewallKind, type FirewallSpec } from "./firewall.js";
import { publishedHostKey } from "./host-keys.js";
import { instanceKind, type InstanceOut, type InstanceSpec } from "./instance.js";
import { networkKind, type NetworkSpec } from "./network.js";
import { findTaggedGcp } from "./orphans.js";
import { projectRolesKind, SERVER_ROLES, type ProjectRolesSpec } from "./project-roles.js";
import { appsServiceAccountId, serviceAccountId, serviceAccountKind, type ServiceAccountSpec } from "./service-account.js";
import { serviceConnectionKind, type ServiceConnectionSpec } from "./service-connection.js";
import { resolveGcpSettings, type GcpSettings } from "./settings.js";
import { artifactRegistryHost, stackName, type GcpKindEnv } from "./shared.js";
import { sqlDatabaseKind, type SqlDatabaseSpec } from "./sql-database.js";
import { sqlInstanceKind, type SqlInstanceOut, type SqlInstanceSpec } from "./sql-instance.js";
import { sqlUserKind, type SqlUserSpec } from "./sql-user.js";
import { subnetworkKind, type SubnetworkSpec } from "./subnetwork.js";
import { connectorName, vpcConnectorKind, type VpcConnectorSpec } from "./vpc-connector.js";

export type { GcpSettings } from "./settings.js";

/** Test seams: clients bound to the fake, an offline IP look-up, no sleeping between polls. */
export interface GcpProviderOptions {
  clients?: GcpClients;
  detectPublicIp?: () => Promise<string | undefined>;
  pollScale?: number;
}

/**
 * The address plan, written once: the server's subnetwork, the connector's
 * /28 beside it, and the range Google's service producers (Cloud SQL) take
 * private addresses from, apart from both.
 */
const ADDRESS_PLAN = { subnetwork: "10.42.0.0/24", connector: "10.42.8.0/28", peeringRange: { address: "10.43.0.0", prefixLength: 20 } };
const POSTGRES_VERSION = "POSTGRES_16";
const POSTGRES_PORT = 5432;
const DB_DISK_GB = 20;
const SERVER_DISK_GB = 30;
export const DB_USER = "pilot";
export const DB_NAME = "pilot";

/** Creates the GCP provider for one stack. */
export function createGcpProvider(ctx: ProviderContext, options: GcpProviderOptions = {}): Provider<GcpSettings> {
  let clients: GcpClients | undefined = options.clients;
  let projectNumber: Promise<string> | undefined;
  const keyPath = join(ctx.stackDir, SSH_KEY_FILE);

  /** One set of clients per provider, made on first use (an endpoint variable that is not a URL fails here). */
  function clientsReady(): GcpClients {
    try {
      clients ??= createGcpClients(ctx.env);
    } catch (err) {
      throw new UsageError((err as Error).message, "Fix or unset the variable; it must be the API's root URL.");
    }
    return clients;
  }

  function kindEnv(settings: GcpSettings): GcpKindEnv {
    const c = clientsReady();
    return {
      clients: c,
      project: settings.project,
      region: settings.region,
      zone: settings.zone,
      pollScale: options.pollScale,
      projectNumber: () =>
        (projectNumber ??= c.crm.projects.get({ projectId: settings.project }).then((r) => String(r.data.projectNumber))),
    };
  }

  function makeKinds(settings: GcpSettings) {
    const env = kindEnv(settings);
    return {
      network: networkKind(env),
      subnetwork: subnetworkKind(env),
      firewall: firewallKind(env),
      address: addressKind(env, "regional-external"),
      peeringRange: addressKind(env, "global-peering-range"),
      connection: serviceConnectionKind(env),
      sqlInstance: sqlInstanceKind(env, { skipFinalSnapshot: settings.skipFinalSnapshot === true }),
      sqlDatabase: sqlDatabaseKind(env),
      sqlUser: sqlUserKind(env),
      connector: vpcConnectorKind(env),
      serviceAccount: serviceAccountKind(env),
      roles: projectRolesKind(env),
      instance: instanceKind(env),
    };
  }

  return {
    name: "gcp",

    async resolveSettings(flags, stored) {
      const settings = await resolveGcpSettings(flags, stored, ctx.env, {
        adcProject: async () => {
          const c = clientsReady();
          return c.auth ? ((await c.auth.getProjectId().catch(() => null)) ?? undefined) : undefined;
        },
        detectPublicIp: options.detectPublicIp ?? (() => detectPublicIp()),
      });
      return settings;
    },

    async checkCredentials(settings) {
      const c = clientsReady();
      const env = kindEnv(settings);
      let who = "nobody (every Google endpoint is on loopback: no credentials are sent)";
      try {
        if (c.auth) {
          const creds = await c.auth.getCredentials();
          who = creds.client_email ?? "your Application Default Credentials";
        }
        const project = await c.crm.projects.get({ projectId: settings.project });
        projectNumber = Promise.resolve(String(project.data.projectNumber));
      } catch (err) {
        const text = String((err as Error)?.message ?? err);
        if (/default credentials|Could not load the default credentials|invalid_grant|reauth/i.test(text)) {
          throw new PilotError("No usable Google Cloud credentials found.", {
            hint: "Run `gcloud auth application-default login`, or set GOOGLE_APPLICATION_CREDENTIALS to a service account key file.",
            cause: err,
          });
        }
        if (disabledService(err)) {
          throw new PilotError(`The Cloud Resource Manager API is disabled in project ${settings.project}.`, {
            hint: `Enable it: gcloud services enable cloudresourcemanager.googleapis.com --project ${settings.project}`,
            cause: err,
          });
        }
        if (isAuthError(err)) {
          throw new PilotError(`Google Cloud refused access to project ${settings.project} (${text}).`, {
            hint: "Check the project id and that your account has the Owner or Editor role on it.",
            cause: err,
          });
        }
        throw wrapError(`check Google Cloud credentials for project ${settings.project}`, err);
      }
      const enabled = await ensureApis(env, {
        enable: settings.enableApis === true,
        progress: (message) => ctx.emit({ type: "log", level: "info", message: `APIs: ${message}` }),
      });
      if (enabled.length > 0) ctx.emit({ type: "log", level: "info", message: `Enabled ${enabled.join(", ")} (--enable-apis).` });
      return `${who} on project ${settings.project}`;
    },

    prepare(_settings, store) {
      return prepareCloudStack(ctx.stackDir, ctx.stack, keyPath, store);
    },

    graph(settings, state) {
      const k = makeKinds(settings);
      const stack = ctx.stack;
      const lineage = { stack, stackId: state.lineage };
      const named = (suffix: string) => stackName(lineage, suffix);
      const password = state.secrets.dbPassword ? new Secret(state.secrets.dbPassword) : undefined;
      const serverTag = `pilot-${stack}-server`;
      const networkName = named("net");

      return [
        node<NetworkSpec>("network", k.network, [], () => ({ name: networkName })),
        node<SubnetworkSpec>("subnet", k.subnetwork, ["network"], (d) => ({ name: named("server"), networkSelfLink: d.network.selfLink, cidr: ADDRESS_PLAN.subnetwork })),
        node<FirewallSpec>("fw-server", k.firewall, ["network"], (d) => ({
          name: named("allow-server"),
          networkSelfLink: d.network.selfLink,
          ports: [22, 9701, 9702],
          sourceRanges: settings.allowCidrs,
          targetTags: [serverTag],
        })),
        node<AddressSpec>("address-server", k.address, [], () => ({ name: named("server-ip"), scope: "regional-external" })),
        node<AddressSpec>("db-range", k.peeringRange, ["network"], (d) => ({
          name: named("db-range"),
          scope: "global-peering-range",
          networkSelfLink: d.network.selfLink,
          prefixLength: ADDRESS_PLAN.peeringRange.prefixLength,
          address: ADDRESS_PLAN.peeringRange.address,
        })),
        node<ServiceConnectionSpec>("db-peering", k.connection, ["network", "db-range"], (d) => ({ networkName: d.network.name, ranges: [d["db-range"].name] })),
        node<SqlInstanceSpec>("db", k.sqlInstance, ["network", "db-peering"], (d) => ({
          namePrefix: `pilot-${stack}`,
          tier: settings.dbTier,
          databaseVersion: POSTGRES_VERSION,
          networkSelfLink: d.network.selfLink,
          diskGb: DB_DISK_GB,
        })),
        node<SqlDatabaseSpec>("db-database", k.sqlDatabase, ["db"], (d) => ({ instance: d.db.name, name: DB_NAME })),
        // After the database: Cloud SQL runs one operation per instance at a time.
        node<SqlUserSpec>("db-user", k.sqlUser, ["db", "db-database"], (d) => ({ instance: d.db.name, name: DB_USER, password })),
        node<VpcConnectorSpec>("connector", k.connector, ["network"], (d) => ({ name: connectorName(stack, state.lineage), networkName: d.network.name, cidr: ADDRESS_PLAN.connector })),
        node<ServiceAccountSpec>("sa-server", k.serviceAccount, [], () => ({ accountId: serviceAccountId(stack, state.lineage), displayName: `Pilot server (${stack})` })),
        node<ProjectRolesSpec>("roles-server", k.roles, ["sa-server"], (d) => ({ member: `serviceAccount:${d["sa-server"].email}`, roles: SERVER_ROLES })),
        // What the stack's Cloud Run apps run as (their waypoint.hcl names it): no role on the project, only
        // read access to each app's own secrets, granted by `pilot up`; the runner may act as it (roles/iam.serviceAccountUser).
        node<ServiceAccountSpec>("sa-apps", k.serviceAccount, [], () => ({
          accountId: appsServiceAccountId(stack, state.lineage),
          displayName: `Pilot apps (${stack})`,
          purpose: "Cloud Run apps of a Pilot stack",
        })),
        node<InstanceSpec>("server", k.instance, ["subnet", "address-server", "sa-server"], (d) => ({
          name: named("server"),
          machineType: settings.machineType,
          subnetworkSelfLink: d.subnet.selfLink,
          natIp: d["address-server"].address,
          serviceAccountEmail: d["sa-server"].email,
          networkTag: serverTag,
          publicKey: readPublicKey(keyPath),
          diskGb: SERVER_DISK_GB,
        })),
      ];
    },

    kinds(settings) {
      const all: ResourceKind<any, any>[] = Object.values(makeKinds(settings));
      return Object.fromEntries(all.map((kind) => [kind.type, kind])) as Record<string, ResourceKind>;
    },

    serverAccess(state): ServerAccess | undefined {
      const address = (state.resources["address-server"]?.out as AddressOut | undefined)?.address;
      if (!address || state.resources.server?.status !== "created") return undefined;
      const { host, port, user } = sshTarget(ctx.env, { host: address, port: 22, user: "ubuntu" });
      return { host, port, user, privateKeyPath: keyPath, publicAddress: address };
    },

    async publishedHostKey(state, progress) {
      const server = state.resources.server?.out as InstanceOut | undefined;
      if (!server) return undefined;
      const started = server.startedAt ? Date.parse(server.startedAt) : undefined;
      return publishedHostKey(kindEnv(state.settings as GcpSettings), server.name, started, progress);
    },

    databaseInfo(state): DatabaseInfo | undefined {
      const db = state.resources.db?.out as SqlInstanceOut | undefined;
      if (!db?.privateIp) return undefined;
      return { host: db.privateIp, port: POSTGRES_PORT, user: DB_USER, database: DB_NAME, passwordSecret: "dbPassword", requireTls: true };
    },

    runnerRegistryAuth(settings) {
      // The stack's Artifact Registry repository lives in the stack's region (src/providers/gcp/artifact-registry.ts).
      return { helper: "gce-metadata", hosts: [artifactRegistryHost(settings.region)] };
    },

    isRetryableDelete(err) {
      return isBusy(err);
    },

    findTagged(settings) {
      return findTaggedGcp(kindEnv(settings), ctx.stack);
    },
  };
}

/** A StackNode with its spec typed against the kind. */
function node<Spec>(key: string, kind: ResourceKind<Spec, any>, dependsOn: string[], spec: (deps: Record<string, any>) => Spec): StackNode {
  return { key, kind, dependsOn, spec };
}

/**
 * The AWS provider: settings, credentials, local prerequisites and the
 * stack's resource graph (DESIGN.md "Resources and the engine"). Each kind
 * lives in its own file; this module only wires them together.
 */
import { GetCallerIdentityCommand } from "@aws-sdk/client-sts";
import { join } from "node:path";
import type { ResourceKind, StackNode } from "../../engine/types.js";
import { PilotError, wrapError } from "../../errors.js";
import { Secret } from "../../secret.js";
import type { StackState } from "../../state/schema.js";
import { WORLD } from "../access.js";
import { prepareCloudStack } from "../prepare.js";
import { readPublicKey, SSH_KEY_FILE } from "../ssh-key.js";
import { sshTarget } from "../ssh-target.js";
import type { DatabaseInfo, Provider, ProviderContext, ServerAccess } from "../types.js";
import { createAwsClients, defaultRegion, destroyAwsClients, type AwsClients } from "./clients.js";
import { DB_NAME, DB_USER, dbInstanceKind, type DbInstanceOut, type DbInstanceSpec } from "./db-instance.js";
import { dbSubnetGroupKind, type DbSubnetGroupSpec } from "./db-subnet-group.js";
import { elasticIpKind, type ElasticIpOut, type ElasticIpSpec } from "./elastic-ip.js";
import { iamRoleKind, type IamRoleSpec } from "./iam-role.js";
import { instanceKind, type InstanceSpec } from "./instance.js";
import { instanceProfileKind, type InstanceProfileSpec } from "./instance-profile.js";
import { internetGatewayKind, type InternetGatewaySpec } from "./internet-gateway.js";
import { keyPairKind, type KeyPairSpec } from "./key-pair.js";
import { consoleHostKey, consoleSpeaksForStandIn } from "./host-keys.js";
import { findTaggedAws } from "./orphans.js";
import { routeTableKind, type RouteTableSpec } from "./route-table.js";
import { securityGroupKind, type SecurityGroupSpec } from "./security-group.js";
import { ec2AssumeRolePolicy, serverPolicy } from "./server-policy.js";
import { detectPublicIp, resolveAwsSettings, type AwsSettings } from "./settings.js";
import { errorCode, isErrorCode, resourceName, type AwsKindEnv } from "./shared.js";
import { subnetKind, type SubnetSpec } from "./subnet.js";
import { vpcKind, type VpcSpec } from "./vpc.js";

export type { AwsSettings } from "./settings.js";

/** Test seams: mocked or moto-bound clients, an offline IP look-up, no sleeping between polls. */
export interface AwsProviderOptions {
  clients?: AwsClients;
  detectPublicIp?: () => Promise<string | undefined>;
  /** Multiplies poll intervals (0 in tests). */
  pollScale?: number;
}

/** The address plan: one /16 per stack VPC, a /24 per subnet. */
const VPC_CIDR = "10.42.0.0/16";
const SUBNETS = { public: "10.42.0.0/24", publicB: "10.42.1.0/24", privateA: "10.42.10.0/24", privateB: "10.42.11.0/24" };
const WAYPOINT_PORTS = [9701, 9702];
/** The apps' load balancers listen on HTTP (the aws-ecs plugin's default listener without a certificate). */
const APP_LB_PORT = 80;
const POSTGRES_PORT = 5432;
const ROOT_VOLUME_GB = 30;
const DB_STORAGE_GB = 20;

/** Codes meaning "still attached, in use or busy": worth retrying with backoff during teardown. */
const RETRYABLE_DELETE = [
  "DependencyViolation",
  "InvalidDBSubnetGroupStateFault",
  "InvalidDBInstanceState",
  "InvalidDBInstanceStateFault",
  "InvalidGroup.InUse",
  "InvalidNetworkInterface.InUse",
  "InvalidIPAddress.InUse",
  "IncorrectState",
  "ResourceInUse",
  "DeleteConflict",
  "ConcurrentModification",
  "OperationAborted",
];

/** Names that must be unique in the account or region carry the lineage's first 8 characters. */
function uniqueName(state: StackState, ctxStack: string, suffix: string): string {
  return `pilot-${ctxStack.slice(0, 32)}-${state.lineage.slice(0, 8)}-${suffix}`;
}

/** Creates the AWS provider for one stack. */
export function createAwsProvider(ctx: ProviderContext, options: AwsProviderOptions = {}): Provider<AwsSettings> {
  let clients: AwsClients | undefined = options.clients;
  let clientsRegion: string | undefined;
  const keyPath = join(ctx.stackDir, SSH_KEY_FILE);

  /** One set of clients per provider; recreated only if the region changes. */
  function clientsFor(region: string): AwsClients {
    if (options.clients) return options.clients;
    if (!clients || clientsRegion !== region) {
      if (clients) destroyAwsClients(clients);
      clients = createAwsClients(region);
      clientsRegion = region;
    }
    return clients;
  }

  function kindEnv(settings: AwsSettings): AwsKindEnv {
    return { clients: clientsFor(settings.region), region: settings.region, pollScale: options.pollScale };
  }

  /** The kinds, typed, for one settings value (the RDS kind depends on skipFinalSnapshot). */
  function makeKinds(settings: AwsSettings) {
    const env = kindEnv(settings);
    return {
      vpc: vpcKind(env),
      igw: internetGatewayKind(env),
      subnet: subnetKind(env),
      routeTable: routeTableKind(env),
      securityGroup: securityGroupKind(env),
      keyPair: keyPairKind(env),
      role: iamRoleKind(env),
      profile: instanceProfileKind(env),
      instance: instanceKind(env),
      eip: elasticIpKind(env),
      dbSubnetGroup: dbSubnetGroupKind(env),
      db: dbInstanceKind(env, { skipFinalSnapshot: settings.skipFinalSnapshot === true }),
    };
  }

  return {
    name: "aws",

    resolveSettings(flags, stored) {
      return resolveAwsSettings(flags, stored, {
        defaultRegion: () => defaultRegion(ctx.env),
        detectPublicIp: options.detectPublicIp ?? (() => detectPublicIp()),
      });
    },

    async checkCredentials(settings) {
      const { sts } = clientsFor(settings.region);
      try {
        const who = await sts.send(new GetCallerIdentityCommand({}));
        return `${who.Arn} (account ${who.Account})`;
      } catch (err) {
        if (isErrorCode(err, "CredentialsProviderError")) {
          throw new PilotError("No AWS credentials found.", {
            hint: "Set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or run `aws configure`.",
            cause: err,
          });
        }
        if (isErrorCode(err, "InvalidClientTokenId", "SignatureDoesNotMatch", "UnrecognizedClientException", "ExpiredToken", "AccessDenied")) {
          throw new PilotError(`AWS rejected the credentials (${errorCode(err)}).`, {
            hint: "Check AWS_PROFILE or the access key, or refresh an expired session (`aws sso login`).",
            cause: err,
          });
        }
        throw wrapError(`check AWS credentials in ${settings.region}`, err);
      }
    },

    prepare(_settings, store) {
      return prepareCloudStack(ctx.stackDir, ctx.stack, keyPath, store);
    },

    graph(settings, state) {
      const k = makeKinds(settings);
      const stack = ctx.stack;
      const named = (key: string) => resourceName({ stack, stackId: state.lineage, key });
      const password = state.secrets.dbPassword ? new Secret(state.secrets.dbPassword) : undefined;
      const roleName = uniqueName(state, stack, "server");

      const nodes: StackNode[] = [
        node<VpcSpec>("vpc", k.vpc, [], () => ({ cidr: VPC_CIDR })),
        node<InternetGatewaySpec>("igw", k.igw, ["vpc"], (d) => ({ vpcId: d.vpc.vpcId })),
        // The server's subnet sits in a zone that offers its instance type. A later type change is
        // made in place (no new subnet): EC2 refuses a type the zone lacks, and the server starts again as it was.
        node<SubnetSpec>("subnet-public", k.subnet, ["vpc"], (d) => ({ vpcId: d.vpc.vpcId, cidr: SUBNETS.public, zoneIndex: 0, offers: settings.instanceType })),
        // RDS requires a subnet group spanning two zones even for a single-AZ database.
        node<SubnetSpec>("subnet-private-a", k.subnet, ["vpc"], (d) => ({ vpcId: d.vpc.vpcId, cidr: SUBNETS.privateA, zoneIndex: 0 })),
        node<SubnetSpec>("subnet-private-b", k.subnet, ["vpc"], (d) => ({ vpcId: d.vpc.vpcId, cidr: SUBNETS.privateB, zoneIndex: 1 })),
        // ECS apps: an internet-facing load balancer needs public subnets in two zones, and the
        // apps' tasks run there with public addresses so Fargate pulls from ECR without a NAT
        // gateway (AWS Copilot's default placement; a NAT gateway would cost more than the server).
        node<SubnetSpec>("subnet-public-b", k.subnet, ["vpc"], (d) => ({ vpcId: d.vpc.vpcId, cidr: SUBNETS.publicB, zoneIndex: 1 })),
        node<RouteTableSpec>("route-public", k.routeTable, ["vpc", "igw", "subnet-public", "subnet-public-b"], (d) => ({
          vpcId: d.vpc.vpcId,
          internetGatewayId: d.igw.internetGatewayId,
          subnetIds: [d["subnet-public"].subnetId, d["subnet-public-b"].subnetId],
        })),
        node<SecurityGroupSpec>("sg-server", k.securityGroup, ["vpc"], (d) => ({
          vpcId: d.vpc.vpcId,
          name: named("sg-server"),
          description: "Pilot server: SSH and Waypoint from the allowed ranges only",
          ingress: [22, ...WAYPOINT_PORTS].map((port) => ({ port, cidrs: settings.allowCidrs })),
        })),
        node<SecurityGroupSpec>("sg-lb", k.securityGroup, ["vpc"], (d) => ({
          vpcId: d.vpc.vpcId,
          name: named("sg-lb"),
          // A group's description cannot change, so it names no range: --public-apps may change later.
          description: "Pilot apps' load balancers: HTTP from the ranges the stack allows",
          ingress: [{ port: APP_LB_PORT, cidrs: settings.publicApps ? [WORLD] : settings.allowCidrs }],
        })),
        // Any TCP port from the load balancers' group: each app listens on its own port.
        node<SecurityGroupSpec>("sg-apps", k.securityGroup, ["vpc", "sg-lb"], (d) => ({
          vpcId: d.vpc.vpcId,
          name: named("sg-apps"),
          description: "Pilot apps (ECS services): from their load balancers only",
          ingress: [{ port: 0, toPort: 65535, sourceGroupIds: [d["sg-lb"].groupId] }],
        })),
        node<SecurityGroupSpec>("sg-db", k.securityGroup, ["vpc", "sg-server", "sg-apps"], (d) => ({
          vpcId: d.vpc.vpcId,
          name: named("sg-db"),
          description: "Pilot database: PostgreSQL from the server and the apps only",
          ingress: [{ port: POSTGRES_PORT, sourceGroupIds: [d["sg-server"].groupId, d["sg-apps"].groupId] }],
        })),
        node<KeyPairSpec>("key-pair", k.keyPair, [], () => ({ name: uniqueName(state, stack, "ssh"), publicKey: readPublicKey(keyPath) })),
        // Depends on the VPC: the runner may make security groups in the stack's VPC only.
        node<IamRoleSpec>("role-server", k.role, ["vpc"], (d) => ({
          name: roleName,
          description: `Pilot server of stack ${stack}: push to ECR, deploy to ECS`,
          assumeRolePolicy: ec2AssumeRolePolicy(),
          policyName: "pilot-waypoint-runner",
          policyDocument: serverPolicy({ region: settings.region, stack, stackId: state.lineage, vpcId: d.vpc.vpcId }),
        })),
        node<InstanceProfileSpec>("profile-server", k.profile, ["role-server"], (d) => ({
          name: uniqueName(state, stack, "server"),
          roleName: d["role-server"].roleName,
        })),
        // Depends on the route table too: the server must reach the internet once it is running.
        node<InstanceSpec>("server", k.instance, ["subnet-public", "sg-server", "key-pair", "profile-server", "route-public"], (d) => ({
          instanceType: settings.instanceType,
          ami: settings.ami,
          subnetId: d["subnet-public"].subnetId,
          securityGroupIds: [d["sg-server"].groupId],
          keyName: d["key-pair"].keyName,
          instanceProfileName: d["profile-server"].name,
          rootVolumeGb: ROOT_VOLUME_GB,
        })),
        // An address can only be associated once the VPC has an internet gateway.
        node<ElasticIpSpec>("eip", k.eip, ["server", "igw"], (d) => ({ instanceId: d.server.instanceId })),
        node<DbSubnetGroupSpec>("db-subnet-group", k.dbSubnetGroup, ["subnet-private-a", "subnet-private-b"], (d) => ({
          // RDS stores subnet group names in lower case.
          name: uniqueName(state, stack, "db").toLowerCase(),
          description: `Pilot database subnets of stack ${stack}`,
          subnetIds: [d["subnet-private-a"].subnetId, d["subnet-private-b"].subnetId],
        })),
        node<DbInstanceSpec>("db", k.db, ["db-subnet-group", "sg-db"], (d) => ({
          identifierPrefix: `pilot-${stack}`,
          instanceClass: settings.dbInstanceClass,
          subnetGroupName: d["db-subnet-group"].name,
          securityGroupIds: [d["sg-db"].groupId],
          allocatedStorageGb: DB_STORAGE_GB,
          password,
        })),
      ];
      return nodes;
    },

    kinds(settings) {
      const k = makeKinds(settings);
      const all: ResourceKind<any, any>[] = Object.values(k);
      return Object.fromEntries(all.map((kind) => [kind.type, kind])) as Record<string, ResourceKind>;
    },

    serverAccess(state): ServerAccess | undefined {
      const eip = state.resources.eip?.out as ElasticIpOut | undefined;
      if (!eip?.publicIp) return undefined;
      const { host, port, user } = sshTarget(ctx.env, { host: eip.publicIp, port: 22, user: "ubuntu" });
      return { host, port, user, privateKeyPath: keyPath, publicAddress: eip.publicIp };
    },

    publishedHostKey(state, progress) {
      const server = state.resources.server;
      if (server?.status !== "created" || !server.id) return Promise.resolve(undefined);
      // SSH sent to a stand-in (PILOT_SSH_TARGET, tests and development): the VM's console key is not its key,
      // unless a test serves the stand-in's key through the console (PILOT_TEST_CONSOLE_HOST_KEYS, host-keys.ts).
      if (ctx.env.PILOT_SSH_TARGET && !consoleSpeaksForStandIn(ctx.env)) return Promise.resolve(undefined);
      return consoleHostKey(kindEnv(state.settings as AwsSettings), server.id, progress);
    },

    databaseInfo(state): DatabaseInfo | undefined {
      const db = state.resources.db?.out as DbInstanceOut | undefined;
      if (!db?.endpoint) return undefined;
      return {
        host: db.endpoint,
        port: db.port ?? POSTGRES_PORT,
        user: DB_USER,
        database: DB_NAME,
        passwordSecret: "dbPassword",
      };
    },

    isRetryableDelete(err) {
      return isErrorCode(err, ...RETRYABLE_DELETE);
    },

    findTagged(settings, state) {
      return findTaggedAws(kindEnv(settings), ctx.stack, {
        // IAM is global: the state's lineage counts as "in this region" only if its stack lives here.
        homeLineage: state && state.settings.region === settings.region ? state.lineage : undefined,
        warn: (message) => ctx.emit({ type: "log", level: "warn", message }),
      });
    },

    close() {
      if (clients && !options.clients) destroyAwsClients(clients);
      clients = undefined;
    },
  };
}

/** A StackNode with its spec typed against the kind. */
function node<Spec>(key: string, kind: ResourceKind<Spec, any>, dependsOn: string[], spec: (deps: Record<string, any>) => Spec): StackNode {
  return { key, kind, dependsOn, spec };
}


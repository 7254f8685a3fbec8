/**
 * What Waypoint's aws-ecs plugin makes for a stack's ECS apps and leaves
 * behind when an app is destroyed (issue 8, point 7): the stack's ECS cluster,
 * its apps' log group and each app's task execution role. The plugin creates
 * them on first deploy under the names waypoint.hcl gives it (app-names.ts),
 * without tags, so teardown finds them by those names alone: the cluster
 * `pilot-<stack>` and log group `/pilot/<stack>/apps` exactly, the roles
 * `pilot-<stack>.<app>` (the "." ends the stack's name, so another stack's
 * names never match). Services are the apps' deployments: an ACTIVE one is
 * left to `pilot destroy`, which removes it with its load balancer and
 * security group; teardown then stops before deleting anything and names it.
 * It also deletes the SSM parameters `pilot up` wrote for the stack's ECS apps
 * (every one under `/pilot/<stack>/`, app-parameters.ts).
 *
 * Loaded lazily by `pilot teardown`, so `pilot --help` loads no ECS,
 * CloudWatch Logs or SSM SDK.
 */
import { CloudWatchLogsClient, DeleteLogGroupCommand, DescribeLogGroupsCommand } from "@aws-sdk/client-cloudwatch-logs";
import { DeleteClusterCommand, DescribeClustersCommand, DescribeServicesCommand, ECSClient, ListServicesCommand, type Service } from "@aws-sdk/client-ecs";
import {
  DeleteRoleCommand,
  DeleteRolePolicyCommand,
  DetachRolePolicyCommand,
  GetRoleCommand,
  IAMClient,
  ListAttachedRolePoliciesCommand,
  ListRolePoliciesCommand,
  ListRolesCommand,
} from "@aws-sdk/client-iam";
import type { SSMClient } from "@aws-sdk/client-ssm";
import type { EmitFn } from "../../engine/types.js";
import { PilotError } from "../../errors.js";
import type { AppState } from "../../state/schema.js";
import { appExecutionRolePattern, appLogGroupName, ecsClusterName, stackParameterPath } from "./app-names.js";
import { createSsmClient, deleteParameters, parametersUnder } from "./app-parameters.js";
import { waitFor } from "../scaffold.js";
import { attempt, isErrorCode, orGone } from "./shared.js";
import { clientConfig } from "./client-config.js";

/** The clients this needs; tests pass their own. */
export interface AppInfraClients {
  ecs: ECSClient;
  logs: CloudWatchLogsClient;
  iam: IAMClient;
  ssm: SSMClient;
}

export interface AppInfraOptions {
  stack: string;
  region: string;
  emit: EmitFn;
  /** The stack's apps from state, to name the `pilot destroy` that clears a blocking service. */
  apps?: Record<string, AppState>;
  clients?: AppInfraClients;
  /** Multiplies poll intervals (0 in tests). */
  pollScale?: number;
}

/** One removed resource, as teardown reports it. */
export interface RemovedAppResource {
  key: string;
  type: "aws.ecs.cluster" | "aws.logs.log-group" | "aws.iam.role" | "aws.ssm.parameters";
  id: string;
}

/** Event keys: the app resources sit beside the graph's nodes in teardown's output. */
const KEYS = { cluster: "app-ecs-cluster", logGroup: "app-log-group", role: (name: string) => `app-role ${name}`, parameters: "app-parameters" };

/** Configured as every AWS client is (client-config.ts). */
export function createAppInfraClients(region: string): AppInfraClients {
  const config = clientConfig(region);
  return { ecs: new ECSClient(config), logs: new CloudWatchLogsClient(config), iam: new IAMClient(config), ssm: createSsmClient(region) };
}

/** True for a role of the stack's apps: `pilot-<stack>.` and more (app-names.ts appExecutionRolePattern). */
export function isAppRoleOf(stack: string, roleName: string): boolean {
  const prefix = appExecutionRolePattern(stack).slice(0, -1); // "pilot-<stack>.*" → "pilot-<stack>."
  return roleName.startsWith(prefix) && roleName.length > prefix.length;
}

/**
 * Removes the stack's ECS cluster (once no service of it is ACTIVE or
 * draining), its apps' SSM parameters, log group and execution roles; what does not
 * exist is done already. Throws, before deleting anything, while an app's
 * service is still deployed. Returns what it removed.
 */
export async function removeAppInfrastructure(opts: AppInfraOptions): Promise<RemovedAppResource[]> {
  const clients = opts.clients ?? createAppInfraClients(opts.region);
  try {
    const cluster = ecsClusterName(opts.stack);
    const where = `in ${opts.region}`;
    const live = await attempt(`list the services of aws.ecs.cluster "${cluster}" ${where}`, () => liveServices(clients.ecs, cluster));
    const deployed = live.filter((s) => s.status === "ACTIVE");
    if (deployed.length > 0) throw servicesStillDeployed(cluster, deployed, opts.apps);

    const removed: RemovedAppResource[] = [];
    const report = async (key: string, type: RemovedAppResource["type"], id: string, remove: () => Promise<boolean>) => {
      opts.emit({ type: "start", key, action: "delete" });
      try {
        if (await remove()) {
          removed.push({ key, type, id });
          opts.emit({ type: "done", key, action: "delete", id });
        } else {
          opts.emit({ type: "done", key, action: "delete" });
        }
      } catch (err) {
        opts.emit({ type: "failed", key, error: (err as Error).message });
        throw err;
      }
    };

    if (live.length > 0 || (await clusterExists(clients.ecs, cluster, where))) {
      await report(KEYS.cluster, "aws.ecs.cluster", cluster, () => deleteCluster(clients.ecs, cluster, where, opts, live.length > 0));
    }
    // The apps' database variables (`pilot up`, ECS apps): nothing reads them once the services are gone.
    const folder = stackParameterPath(opts.stack);
    const parameters = await parametersUnder(clients.ssm, folder, opts.region);
    if (parameters.length > 0) {
      await report(KEYS.parameters, "aws.ssm.parameters", folder, async () => {
        await deleteParameters(clients.ssm, parameters, opts.region);
        return true;
      });
    }
    const logGroup = appLogGroupName(opts.stack);
    if (await logGroupExists(clients.logs, logGroup, where)) {
      await report(KEYS.logGroup, "aws.logs.log-group", logGroup, () => deleteLogGroup(clients.logs, logGroup, where));
    }
    for (const role of await appRoles(clients.iam, opts.stack)) {
      const usedIn = await lastUsedRegion(clients.iam, role);
      if (usedIn && usedIn !== opts.region) {
        // IAM is global and the plugin's role names carry no region: a stack of the same name elsewhere shares them.
        opts.emit({
          type: "log",
          level: "warn",
          message: `Kept IAM role ${role}: it is named for this stack's apps but was last used in ${usedIn}, not ${opts.region} (a stack of the same name there?). Delete it yourself if it is no one's.`,
        });
        continue;
      }
      await report(KEYS.role(role), "aws.iam.role", role, () => deleteRole(clients.iam, role));
    }
    return removed;
  } finally {
    if (!opts.clients) {
      clients.ecs.destroy();
      clients.logs.destroy();
      clients.iam.destroy();
      clients.ssm.destroy();
    }
  }
}

/** The cluster's services that still exist (ACTIVE or DRAINING); none when the cluster is gone. */
async function liveServices(ecs: ECSClient, cluster: string): Promise<Service[]> {
  const arns: string[] = [];
  let nextToken: string | undefined;
  do {
    const page = await orGone(["ClusterNotFoundException"], () => ecs.send(new ListServicesCommand({ cluster, nextToken })));
    if (!page) return [];
    arns.push(...(page.serviceArns ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  const services: Service[] = [];
  // DescribeServices takes ten at a time.
  for (let i = 0; i < arns.length; i += 10) {
    const page = await ecs.send(new DescribeServicesCommand({ cluster, services: arns.slice(i, i + 10) }));
    services.push(...(page.services ?? []));
  }
  // A deleted service stays listed as INACTIVE for a while; it holds nothing.
  return services.filter((s) => s.status === "ACTIVE" || s.status === "DRAINING");
}

function servicesStillDeployed(cluster: string, services: Service[], apps: Record<string, AppState> | undefined): PilotError {
  const ecsApps = Object.values(apps ?? {}).filter((a) => a.target === "ecs");
  const destroys = ecsApps.map((a) => `\`pilot destroy ${a.project}/${a.app}\``);
  return new PilotError(
    `The stack's ECS cluster ${cluster} still runs ${services.length === 1 ? "an app's service" : "apps' services"}: ${services.map((s) => s.serviceName).join(", ")}. Nothing was deleted.`,
    {
      hint:
        `Remove the apps first (${destroys.length ? destroys.join(", ") : "`pilot destroy PROJECT/APP` for each ECS app"}): that also removes each one's load balancer and security group, ` +
        `which would otherwise keep the stack's network from being deleted. If the server can no longer do it, delete them in the AWS console ` +
        `(\`aws ecs delete-service --cluster ${cluster} --service NAME --force\`, then the app's "waypoint-ecs-<app>" load balancer and "<app>-inbound" security group), then run teardown again.`,
    },
  );
}

/** True when the cluster exists and is not already deleted (a deleted cluster reads as INACTIVE for a while). */
async function clusterExists(ecs: ECSClient, cluster: string, where: string): Promise<boolean> {
  const res = await attempt(`read aws.ecs.cluster "${cluster}" ${where}`, () => ecs.send(new DescribeClustersCommand({ clusters: [cluster] })));
  return (res.clusters ?? []).some((c) => c.clusterName === cluster && c.status !== "INACTIVE");
}

/**
 * Deletes the cluster. Services being deleted (DRAINING) and their stopping
 * tasks keep it busy for a while: waits for them, bounded, then says what
 * still holds it.
 */
async function deleteCluster(ecs: ECSClient, cluster: string, where: string, opts: AppInfraOptions, draining: boolean): Promise<boolean> {
  const action = `delete aws.ecs.cluster "${cluster}" ${where}`;
  const env = { pollScale: opts.pollScale };
  const progress = (message: string) => opts.emit({ type: "progress", key: KEYS.cluster, message });
  if (draining) {
    await attempt(action, () =>
      waitFor(env, { what: `the services of ${cluster} to finish draining`, cloud: "AWS", intervalMs: 15_000, initialIntervalMs: 2_000, timeoutMs: 10 * 60_000, progress }, async () => {
        const live = await liveServices(ecs, cluster);
        if (live.some((s) => s.status === "ACTIVE")) throw servicesStillDeployed(cluster, live, opts.apps);
        return { done: live.length === 0, status: live.length ? `${live.length} service(s) draining: ${live.map((s) => s.serviceName).join(", ")}` : "no services left" };
      }),
    );
  }
  const deleted = await attempt(action, () =>
    waitFor(env, { what: `${cluster} to have no services or tasks left`, cloud: "AWS", intervalMs: 15_000, initialIntervalMs: 2_000, timeoutMs: 5 * 60_000, progress }, async () => {
      try {
        const res = await orGone(["ClusterNotFoundException"], () => ecs.send(new DeleteClusterCommand({ cluster })));
        return { done: true, status: "deleted", value: res !== undefined };
      } catch (err) {
        // Tasks still stopping, or an EC2 container instance someone registered: retried until the wait gives up.
        if (isErrorCode(err, "ClusterContainsTasksException", "ClusterContainsServicesException", "ClusterContainsContainerInstancesException", "UpdateInProgressException")) {
          return { done: false, status: `busy: ${(err as Error).message}` };
        }
        throw err;
      }
    }),
  );
  return deleted === true;
}

async function logGroupExists(logs: CloudWatchLogsClient, name: string, where: string): Promise<boolean> {
  // The name is a prefix filter: several groups may start with it; only the exact one is the stack's.
  const res = await attempt(`read aws.logs.log-group "${name}" ${where}`, () => logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: name })));
  return (res.logGroups ?? []).some((g) => g.logGroupName === name);
}

async function deleteLogGroup(logs: CloudWatchLogsClient, name: string, where: string): Promise<boolean> {
  const res = await attempt(`delete aws.logs.log-group "${name}" ${where}`, () =>
    orGone(["ResourceNotFoundException"], () => logs.send(new DeleteLogGroupCommand({ logGroupName: name }))),
  );
  return res !== undefined;
}

/** The account's roles named for the stack's apps (IAM is global: any region's stack of this name would share them). */
async function appRoles(iam: IAMClient, stack: string): Promise<string[]> {
  const names: string[] = [];
  let Marker: string | undefined;
  do {
    const page = await attempt(`list aws.iam.role "${appExecutionRolePattern(stack)}"`, () => iam.send(new ListRolesCommand({ Marker })));
    names.push(...(page.Roles ?? []).map((r) => r.RoleName!).filter((n) => isAppRoleOf(stack, n)));
    Marker = page.IsTruncated ? page.Marker : undefined;
  } while (Marker);
  return names.sort();
}

/** The region the role was last used in (ECS tasks assume it there), if AWS tracked any use. */
async function lastUsedRegion(iam: IAMClient, name: string): Promise<string | undefined> {
  const res = await attempt(`read aws.iam.role "${name}"`, () => orGone(["NoSuchEntity", "NoSuchEntityException"], () => iam.send(new GetRoleCommand({ RoleName: name }))));
  return res?.Role?.RoleLastUsed?.Region || undefined;
}

/** Detaches the role's managed policies and deletes its inline ones (IAM refuses to delete a role that has any), then the role. */
async function deleteRole(iam: IAMClient, name: string): Promise<boolean> {
  return attempt(`delete aws.iam.role "${name}"`, async () => {
    const gone = ["NoSuchEntity", "NoSuchEntityException"];
    const attached = await orGone(gone, () => iam.send(new ListAttachedRolePoliciesCommand({ RoleName: name })));
    if (!attached) return false;
    for (const p of attached.AttachedPolicies ?? []) {
      await orGone(gone, () => iam.send(new DetachRolePolicyCommand({ RoleName: name, PolicyArn: p.PolicyArn })));
    }
    const inline = await orGone(gone, () => iam.send(new ListRolePoliciesCommand({ RoleName: name })));
    for (const policy of inline?.PolicyNames ?? []) {
      await orGone(gone, () => iam.send(new DeleteRolePolicyCommand({ RoleName: name, PolicyName: policy })));
    }
    return (await orGone(gone, () => iam.send(new DeleteRoleCommand({ RoleName: name })))) !== undefined;
  });
}

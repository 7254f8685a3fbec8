/**
 * Teardown of what the aws-ecs plugin made for a stack's apps
 * (src/providers/aws/app-infrastructure.ts), for what moto cannot show: a
 * service still draining and a cluster busy with stopping tasks (moto deletes
 * both at once). The whole path against moto is in
 * test/integration/cli/teardown-app-infra.test.ts.
 */
import { CloudWatchLogsClient, DeleteLogGroupCommand, DescribeLogGroupsCommand } from "@aws-sdk/client-cloudwatch-logs";
import { DeleteClusterCommand, DescribeClustersCommand, DescribeServicesCommand, ECSClient, ListServicesCommand } from "@aws-sdk/client-ecs";
import {
  DeleteRoleCommand,
  DetachRolePolicyCommand,
  GetRoleCommand,
  IAMClient,
  ListAttachedRolePoliciesCommand,
  ListRolePoliciesCommand,
  ListRolesCommand,
} from "@aws-sdk/client-iam";
import { DeleteParametersCommand, DescribeParametersCommand, SSMClient } from "@aws-sdk/client-ssm";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { EngineEvent } from "../../../../src/engine/types.js";
import { isAppRoleOf, removeAppInfrastructure } from "../../../../src/providers/aws/app-infrastructure.js";

const ecsMock = mockClient(ECSClient);
const logsMock = mockClient(CloudWatchLogsClient);
const iamMock = mockClient(IAMClient);
const ssmMock = mockClient(SSMClient);
beforeEach(() => {
  // No parameters unless a test says otherwise.
  ssmMock.on(DescribeParametersCommand).resolves({ Parameters: [] });
});
afterEach(() => {
  ssmMock.reset();
  ecsMock.reset();
  logsMock.reset();
  iamMock.reset();
});

const region = "us-east-1";
const clients = () => ({ ecs: new ECSClient({ region }), logs: new CloudWatchLogsClient({ region }), iam: new IAMClient({ region }), ssm: new SSMClient({ region }) });
const clusterError = (name: string) => Object.assign(new Error(`${name}: the cluster is busy`), { name });

function run(events: EngineEvent[] = []) {
  return removeAppInfrastructure({ stack: "s1", region, emit: (e) => events.push(e), clients: clients(), pollScale: 0 });
}

describe("isAppRoleOf", () => {
  it.each([
    ["pilot-s1.web", true],
    ["pilot-s1.web.worker", true],
    ["pilot-s1.", false],
    ["pilot-s1-server", false], // the stack's own server role is the graph's
    ["pilot-s12.web", false],
    ["pilot-s1-x.web", false],
    ["ecr-web", false], // the plugin's default name, which Pilot's waypoint.hcl never uses
  ])("%s → %s", (name, mine) => {
    expect(isAppRoleOf("s1", name)).toBe(mine);
  });
});

describe("removeAppInfrastructure", () => {
  it("waits for services being deleted to drain, then deletes the cluster", async () => {
    logsMock.on(DescribeLogGroupsCommand).resolves({ logGroups: [] });
    iamMock.on(ListRolesCommand).resolves({ Roles: [] });
    ecsMock.on(ListServicesCommand).resolves({ serviceArns: ["arn:svc/web-01"] });
    ecsMock
      .on(DescribeServicesCommand)
      .resolvesOnce({ services: [{ serviceName: "web-01", status: "DRAINING" }] }) // the check before anything is deleted
      .resolvesOnce({ services: [{ serviceName: "web-01", status: "DRAINING" }] })
      .resolves({ services: [{ serviceName: "web-01", status: "INACTIVE" }] });
    ecsMock.on(DeleteClusterCommand).rejectsOnce(clusterError("ClusterContainsTasksException")).resolves({ cluster: { clusterName: "pilot-s1", status: "INACTIVE" } });
    const events: EngineEvent[] = [];
    expect(await run(events)).toEqual([{ key: "app-ecs-cluster", type: "aws.ecs.cluster", id: "pilot-s1" }]);
    expect(ecsMock.commandCalls(DeleteClusterCommand)).toHaveLength(2);
    expect(ecsMock.commandCalls(DeleteClusterCommand)[0]!.args[0].input).toEqual({ cluster: "pilot-s1" });
    const progress = events.filter((e) => e.type === "progress").map((e) => (e as { message: string }).message);
    expect(progress.some((m) => /1 service\(s\) draining: web-01/.test(m))).toBe(true);
    expect(progress.some((m) => /busy: ClusterContainsTasksException/.test(m))).toBe(true);
  });

  it("a service still deployed stops it before any delete, naming the service", async () => {
    ecsMock.on(ListServicesCommand).resolves({ serviceArns: ["arn:svc/web-01", "arn:svc/api-02"] });
    ecsMock.on(DescribeServicesCommand).resolves({ services: [{ serviceName: "web-01", status: "ACTIVE" }, { serviceName: "api-02", status: "DRAINING" }] });
    await expect(run()).rejects.toThrow("The stack's ECS cluster pilot-s1 still runs an app's service: web-01. Nothing was deleted.");
    expect(ecsMock.commandCalls(DeleteClusterCommand)).toHaveLength(0);
    expect(logsMock.commandCalls(DeleteLogGroupCommand)).toHaveLength(0);
    expect(iamMock.calls()).toHaveLength(0);
    expect(ssmMock.commandCalls(DeleteParametersCommand)).toHaveLength(0);
  });

  it("deletes the apps' SSM parameters under /pilot/<stack>/ only, ten per call, reported as one resource", async () => {
    ecsMock.on(ListServicesCommand).rejects(Object.assign(new Error("Cluster not found."), { name: "ClusterNotFoundException" }));
    ecsMock.on(DescribeClustersCommand).resolves({ clusters: [] });
    logsMock.on(DescribeLogGroupsCommand).resolves({ logGroups: [] });
    iamMock.on(ListRolesCommand).resolves({ Roles: [] });
    const names = (app: string) => ["DATABASE_URL", "PGHOST", "PGPORT", "PGUSER", "PGPASSWORD", "PGDATABASE"].map((v) => `/pilot/s1/shop/${app}/${v}`);
    ssmMock
      .on(DescribeParametersCommand)
      .resolvesOnce({ Parameters: names("web").map((Name) => ({ Name })), NextToken: "page2" })
      // A stack named "s12" is not under "/pilot/s1/", whatever the filter returns.
      .resolvesOnce({ Parameters: [...names("api"), "/pilot/s12/shop/web/DATABASE_URL"].map((Name) => ({ Name })) });
    ssmMock.on(DeleteParametersCommand).resolves({});
    const events: EngineEvent[] = [];
    expect(await run(events)).toEqual([{ key: "app-parameters", type: "aws.ssm.parameters", id: "/pilot/s1/" }]);
    expect(ssmMock.commandCalls(DescribeParametersCommand)[0]!.args[0].input.ParameterFilters).toEqual([{ Key: "Path", Option: "Recursive", Values: ["/pilot/s1"] }]);
    const deleted = ssmMock.commandCalls(DeleteParametersCommand).map((c) => c.args[0].input.Names!);
    expect(deleted.map((b) => b.length)).toEqual([10, 2]);
    expect(deleted.flat().sort()).toEqual([...names("api"), ...names("web")].sort());
    expect(events.map((e) => `${e.type}:${(e as { key?: string }).key}`)).toEqual(["start:app-parameters", "done:app-parameters"]);
  });

  it("deletes the app roles used in the stack's region, and keeps (naming it) one last used in another: IAM is global", async () => {
    ecsMock.on(ListServicesCommand).rejects(Object.assign(new Error("Cluster not found."), { name: "ClusterNotFoundException" }));
    ecsMock.on(DescribeClustersCommand).resolves({ clusters: [] });
    logsMock.on(DescribeLogGroupsCommand).resolves({ logGroups: [] });
    iamMock.on(ListRolesCommand).resolves({ Roles: [{ RoleName: "pilot-s1.api" }, { RoleName: "pilot-s1.web" }, { RoleName: "pilot-s1.new" }] as never });
    iamMock.on(GetRoleCommand, { RoleName: "pilot-s1.api" }).resolves({ Role: { RoleName: "pilot-s1.api", RoleLastUsed: { Region: region } } as never });
    iamMock.on(GetRoleCommand, { RoleName: "pilot-s1.web" }).resolves({ Role: { RoleName: "pilot-s1.web", RoleLastUsed: { Region: "eu-west-1" } } as never });
    iamMock.on(GetRoleCommand, { RoleName: "pilot-s1.new" }).resolves({ Role: { RoleName: "pilot-s1.new", RoleLastUsed: {} } as never });
    iamMock.on(ListAttachedRolePoliciesCommand).resolves({ AttachedPolicies: [{ PolicyArn: "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy" }] });
    iamMock.on(ListRolePoliciesCommand).resolves({ PolicyNames: [] });
    iamMock.on(DetachRolePolicyCommand).resolves({});
    iamMock.on(DeleteRoleCommand).resolves({});
    const events: EngineEvent[] = [];
    expect((await run(events)).map((r) => r.id)).toEqual(["pilot-s1.api", "pilot-s1.new"]);
    expect(iamMock.commandCalls(DeleteRoleCommand).map((c) => c.args[0].input.RoleName)).toEqual(["pilot-s1.api", "pilot-s1.new"]);
    expect(iamMock.commandCalls(DetachRolePolicyCommand).map((c) => c.args[0].input.RoleName)).toEqual(["pilot-s1.api", "pilot-s1.new"]);
    const warned = events.filter((e) => e.type === "log").map((e) => (e as { message: string }).message);
    expect(warned).toEqual([expect.stringMatching(/^Kept IAM role pilot-s1\.web: .* last used in eu-west-1, not us-east-1/)]);
  });

  it("nothing there (no cluster, a deleted one, a log group of another stack) is nothing to do", async () => {
    ecsMock.on(ListServicesCommand).rejects(Object.assign(new Error("Cluster not found."), { name: "ClusterNotFoundException" }));
    ecsMock.on(DescribeClustersCommand).resolves({ clusters: [{ clusterName: "pilot-s1", status: "INACTIVE" }] });
    logsMock.on(DescribeLogGroupsCommand).resolves({ logGroups: [{ logGroupName: "/pilot/s1/apps-old" }] });
    iamMock.on(ListRolesCommand).resolves({ Roles: [{ RoleName: "pilot-s1-server" } as never] });
    const events: EngineEvent[] = [];
    expect(await run(events)).toEqual([]);
    expect(events).toEqual([]);
    expect(ecsMock.commandCalls(DeleteClusterCommand)).toHaveLength(0);
    expect(logsMock.commandCalls(DeleteLogGroupCommand)).toHaveLength(0);
  });
});

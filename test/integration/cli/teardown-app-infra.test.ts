/**
 * `pilot teardown` of an AWS stack also removes what Waypoint's aws-ecs
 * plugin made for the stack's ECS apps (issue 8, point 7; issue 10): the
 * cluster `pilot-<stack>`, the log group `/pilot/<stack>/apps` and the
 * execution roles `pilot-<stack>.<app>` (src/providers/aws/app-names.ts).
 * The test makes them in moto as the plugin does (platform.go: CreateCluster,
 * CreateLogGroup, CreateRole + AttachRolePolicy, all untagged), beside
 * same-shaped ones of other stacks, then runs the real CLI.
 */
import { CloudWatchLogsClient, CreateLogGroupCommand, DescribeLogGroupsCommand } from "@aws-sdk/client-cloudwatch-logs";
import { CreateClusterCommand, CreateServiceCommand, DeleteServiceCommand, DescribeClustersCommand, ECSClient, RegisterTaskDefinitionCommand } from "@aws-sdk/client-ecs";
import { AttachRolePolicyCommand, CreatePolicyCommand, CreateRoleCommand, GetPolicyCommand, IAMClient, ListRolesCommand, PutRolePolicyCommand } from "@aws-sdk/client-iam";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectNothingLeft, expectOneStack, inventory, NODE_KEYS, useCliHarness } from "./helpers.js";

const h = useCliHarness("pilot-cli-td-apps-");
const REGION = "us-east-1";
/**
 * The plugin attaches AWS's AmazonECSTaskExecutionRolePolicy to an execution
 * role it makes (platform.go executionRolePolicyArn); moto does not load AWS's
 * managed policies, so a customer-managed one of the same content stands in.
 */
let executionPolicy: string;
const ECS_TASKS_TRUST = JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { Service: "ecs-tasks.amazonaws.com" }, Action: "sts:AssumeRole" }] });

let ecs: ECSClient;
let logs: CloudWatchLogsClient;
let iam: IAMClient;
beforeAll(async () => {
  ecs = new ECSClient({ region: REGION });
  logs = new CloudWatchLogsClient({ region: REGION });
  iam = new IAMClient({ region: REGION });
  const doc = { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: ["ecr:GetAuthorizationToken", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "logs:CreateLogStream", "logs:PutLogEvents"], Resource: "*" }] };
  const p = await iam.send(new CreatePolicyCommand({ PolicyName: "AmazonECSTaskExecutionRolePolicy-standin", PolicyDocument: JSON.stringify(doc) }));
  executionPolicy = p.Policy!.Arn!;
});
afterAll(() => {
  ecs?.destroy();
  logs?.destroy();
  iam?.destroy();
});

/** What the aws-ecs plugin leaves for a stack after deploying (and destroying) `apps`. */
async function pluginLeftovers(stack: string, apps: string[], opts: { inlinePolicy?: boolean } = {}): Promise<void> {
  await ecs.send(new CreateClusterCommand({ clusterName: `pilot-${stack}` }));
  await logs.send(new CreateLogGroupCommand({ logGroupName: `/pilot/${stack}/apps` }));
  for (const app of apps) {
    const RoleName = `pilot-${stack}.${app}`;
    await iam.send(new CreateRoleCommand({ RoleName, Path: "/", AssumeRolePolicyDocument: ECS_TASKS_TRUST }));
    await iam.send(new AttachRolePolicyCommand({ RoleName, PolicyArn: executionPolicy }));
    if (opts.inlinePolicy) {
      // Someone added an inline policy by hand: IAM refuses to delete a role that still has one.
      await iam.send(new PutRolePolicyCommand({ RoleName, PolicyName: "extra", PolicyDocument: JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "s3:GetObject", Resource: "*" }] }) }));
    }
  }
}

/** An app's deployment as the plugin makes it: a service in the stack's cluster. */
async function deployService(stack: string, service: string, desiredCount = 1): Promise<void> {
  const td = await ecs.send(
    new RegisterTaskDefinitionCommand({ family: service, requiresCompatibilities: ["FARGATE"], networkMode: "awsvpc", cpu: "256", memory: "512", containerDefinitions: [{ name: service, image: "nginx", essential: true }] }),
  );
  await ecs.send(new CreateServiceCommand({ cluster: `pilot-${stack}`, serviceName: service, taskDefinition: td.taskDefinition!.taskDefinitionArn, desiredCount }));
}

/** "ACTIVE", "INACTIVE" (deleted, still listed for a while) or "MISSING". */
async function clusterStatus(name: string): Promise<string> {
  const res = await ecs.send(new DescribeClustersCommand({ clusters: [name] }));
  return res.clusters?.find((c) => c.clusterName === name)?.status ?? "MISSING";
}
async function hasLogGroup(name: string): Promise<boolean> {
  const res = await logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: name }));
  return (res.logGroups ?? []).some((g) => g.logGroupName === name);
}
async function roleNames(): Promise<string[]> {
  return ((await iam.send(new ListRolesCommand({}))).Roles ?? []).map((r) => r.RoleName!).sort();
}

describe("pilot teardown (aws, moto): what the aws-ecs plugin made for the stack's apps", () => {
  it("removes the stack's cluster, log group and app roles (policies first), reports each, and leaves other stacks' alone", async () => {
    expect((await h.cli.up("tda")).code).toBe(0);
    await pluginLeftovers("tda", ["web", "worker"], { inlinePolicy: true });
    // An app destroyed earlier: its service was deleted (INACTIVE), which holds nothing.
    await deployService("tda", "web-01", 0);
    await ecs.send(new DeleteServiceCommand({ cluster: "pilot-tda", service: "web-01" }));
    // Same shapes, other stacks: "tda2" and "tda-x" start with "tda" but are not "tda".
    await pluginLeftovers("tda2", ["web"]);
    await pluginLeftovers("tda-x", ["web"]);

    const r = await h.cli.run(["teardown", "--name", "tda", "--yes", "--skip-final-snapshot", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json.ok).toBe(true);
    expect([...r.json.deleted].sort()).toEqual([...NODE_KEYS].sort());
    expect(r.json.appResources).toEqual([
      { type: "aws.ecs.cluster", id: "pilot-tda" },
      { type: "aws.logs.log-group", id: "/pilot/tda/apps" },
      { type: "aws.iam.role", id: "pilot-tda.web" },
      { type: "aws.iam.role", id: "pilot-tda.worker" },
    ]);
    // Each one reported as it goes, like the graph's resources.
    const done = r.json.events.filter((e: { type: string; key: string }) => e.type === "done" && e.key.startsWith("app-")).map((e: { key: string; id?: string }) => `${e.key}=${e.id}`);
    expect(done).toEqual(["app-ecs-cluster=pilot-tda", "app-log-group=/pilot/tda/apps", "app-role pilot-tda.web=pilot-tda.web", "app-role pilot-tda.worker=pilot-tda.worker"]);

    expect(await clusterStatus("pilot-tda")).toMatch(/^(INACTIVE|MISSING)$/);
    expect(await hasLogGroup("/pilot/tda/apps")).toBe(false);
    const roles = await roleNames();
    expect(roles.filter((n) => n.startsWith("pilot-tda."))).toEqual([]);
    // Nothing of the stack is left (the inventory's "pilot-tda-" name prefix also takes in stack tda-x's role).
    const left = await inventory("tda");
    left.role = left.role!.filter((n) => n !== "pilot-tda-x.web");
    expect(Object.fromEntries(Object.entries(left).filter(([, ids]) => ids.length > 0))).toEqual({});
    // Other stacks' are untouched.
    expect(await clusterStatus("pilot-tda2")).toBe("ACTIVE");
    expect(await clusterStatus("pilot-tda-x")).toBe("ACTIVE");
    expect(await hasLogGroup("/pilot/tda2/apps")).toBe(true);
    expect(await hasLogGroup("/pilot/tda-x/apps")).toBe(true);
    expect(roles).toEqual(expect.arrayContaining(["pilot-tda2.web", "pilot-tda-x.web"]));
    // The managed policy was detached, not deleted: it is not the stack's.
    expect((await iam.send(new GetPolicyCommand({ PolicyArn: executionPolicy }))).Policy?.AttachmentCount).toBe(2);
  });

  it("the human output names what it removed", async () => {
    expect((await h.cli.up("tdh")).code).toBe(0);
    await pluginLeftovers("tdh", ["api"]);
    const r = await h.cli.teardown("tdh");
    expect(r.code, r.stderr).toBe(0);
    const out = `${r.stdout}\n${r.stderr}`;
    expect(out).toContain("app-ecs-cluster: deleted pilot-tdh");
    expect(out).toContain("app-role pilot-tdh.api: deleted pilot-tdh.api");
    expect(out).toMatch(/and 3 that its apps' deployments made: ECS cluster pilot-tdh, log group \/pilot\/tdh\/apps, IAM role pilot-tdh\.api/);
  });

  it("an app still deployed stops teardown before anything is deleted, naming its service; once it is gone teardown completes", async () => {
    expect((await h.cli.up("tdb")).code).toBe(0);
    await pluginLeftovers("tdb", ["web"]);
    await deployService("tdb", "web-01");
    const before = h.cli.state("tdb");

    const r = await h.cli.run(["teardown", "--name", "tdb", "--yes", "--skip-final-snapshot", "--json"]);
    expect(r.code).toBe(1);
    expect(r.json.error.message).toContain("pilot-tdb still runs an app's service: web-01. Nothing was deleted.");
    expect(r.json.error.hint).toMatch(/pilot destroy/);
    expect(h.cli.state("tdb").resources).toEqual(before.resources);
    await expectOneStack(h.cli, "tdb");
    expect(await clusterStatus("pilot-tdb")).toBe("ACTIVE");
    expect(await hasLogGroup("/pilot/tdb/apps")).toBe(true);
    expect(await roleNames()).toContain("pilot-tdb.web");

    // `pilot destroy` removes the deployment (the plugin scales it to 0 and deletes it).
    await ecs.send(new DeleteServiceCommand({ cluster: "pilot-tdb", service: "web-01", force: true }));
    const again = await h.cli.teardown("tdb", ["--skip-final-snapshot", "--json"]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.json.appResources.map((x: { id: string }) => x.id)).toEqual(["pilot-tdb", "/pilot/tdb/apps", "pilot-tdb.web"]);
    expect(await clusterStatus("pilot-tdb")).toMatch(/^(INACTIVE|MISSING)$/);
    await expectNothingLeft("tdb");
  });

  it("a stack whose apps made nothing, or whose leftovers are partly gone already, tears down as before", async () => {
    expect((await h.cli.up("tdn")).code).toBe(0);
    // Only the log group is left (say the cluster was deleted by hand).
    await logs.send(new CreateLogGroupCommand({ logGroupName: "/pilot/tdn/apps" }));
    const r = await h.cli.run(["teardown", "--name", "tdn", "--yes", "--skip-final-snapshot", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json.appResources).toEqual([{ type: "aws.logs.log-group", id: "/pilot/tdn/apps" }]);
    expect(await hasLogGroup("/pilot/tdn/apps")).toBe(false);
    await expectNothingLeft("tdn");
  });
});

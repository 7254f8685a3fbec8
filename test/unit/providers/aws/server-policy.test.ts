/**
 * The server role's policy, evaluated (./policy-eval.ts) for the calls
 * Waypoint 0.11.4's aws-ecr and aws-ecs plugins make (read from
 * builtin/aws/ecr/registry.go and builtin/aws/ecs/platform.go, releaser.go)
 * on the stack's own resources, and for the same calls on resources that are
 * not the stack's: another stack's, untagged, or Pilot's own infrastructure.
 */
import { describe, expect, it } from "vitest";
import { serverPolicy, serverPolicyStatements } from "../../../../src/providers/aws/server-policy.js";
import { isAllowed, type PolicyRequest } from "./policy-eval.js";

const R = "eu-west-1";
const A = "123456789012";
const input = { region: R, stack: "shop", stackId: "lineage-1", vpcId: "vpc-0abc" };
const policy = serverPolicyStatements(input);
const allowed = (req: PolicyRequest) => isAllowed(policy, req);

const vpc = (id: string) => `arn:aws:ec2:${R}:${A}:vpc/${id}`;
const sg = (id: string) => `arn:aws:ec2:${R}:${A}:security-group/${id}`;
const repo = (name: string) => `arn:aws:ecr:${R}:${A}:repository/${name}`;
const cluster = (name: string) => `arn:aws:ecs:${R}:${A}:cluster/${name}`;
const service = (c: string, name: string) => `arn:aws:ecs:${R}:${A}:service/${c}/${name}`;
const role = (name: string) => `arn:aws:iam::${A}:role/${name}`;
const lb = (name: string) => `arn:aws:elasticloadbalancing:${R}:${A}:loadbalancer/app/${name}/50dc6c495c0c9188`;
const listener = (name: string) => `arn:aws:elasticloadbalancing:${R}:${A}:listener/app/${name}/50dc6c495c0c9188/f2f7dc8efc522ab2`;
const tg = (name: string) => `arn:aws:elasticloadbalancing:${R}:${A}:targetgroup/${name}/6d0ecf831eec9f09`;
const ours = { "aws:ResourceTag/pilot:stack-id": "lineage-1" };
const inStackVpc = { "ec2:Vpc": vpc("vpc-0abc") };
const waypointLb = { "aws:ResourceTag/waypoint_managed": "true" };
const EXEC_POLICY = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy";
const DEPLOYMENT = "01hx7d0c5wq3k8m0z2v6y4r9ta";

describe("the server role lets the runner deploy the stack's apps", () => {
  const calls: [string, PolicyRequest][] = [
    ["ecr login", { action: "ecr:GetAuthorizationToken", resource: "*" }],
    ...["DescribeRepositories", "BatchCheckLayerAvailability", "InitiateLayerUpload", "UploadLayerPart", "CompleteLayerUpload", "PutImage", "BatchGetImage"].map(
      (a): [string, PolicyRequest] => [`ecr push: ${a}`, { action: `ecr:${a}`, resource: repo("pilot-shop/web/api"), context: ours }],
    ),
    ["cluster lookup", { action: "ecs:DescribeClusters", resource: cluster("pilot-shop") }],
    ["cluster create", { action: "ecs:CreateCluster", resource: cluster("pilot-shop") }],
    ["task definition", { action: "ecs:RegisterTaskDefinition", resource: "*", context: { "aws:RequestedRegion": R } }],
    ["task definition tags", { action: "ecs:TagResource", resource: `arn:aws:ecs:${R}:${A}:task-definition/web:3`, context: { "ecs:CreateAction": "RegisterTaskDefinition" } }],
    ["service create", { action: "ecs:CreateService", resource: service("pilot-shop", DEPLOYMENT) }],
    ["service status", { action: "ecs:DescribeServices", resource: service("pilot-shop", DEPLOYMENT) }],
    ["task list", { action: "ecs:ListTasks", resource: `arn:aws:ecs:${R}:${A}:container-instance/pilot-shop/abc`, context: { "ecs:cluster": cluster("pilot-shop") } }],
    ["task status", { action: "ecs:DescribeTasks", resource: `arn:aws:ecs:${R}:${A}:task/pilot-shop/abc`, context: { "ecs:cluster": cluster("pilot-shop") } }],
    ["execution role lookup", { action: "iam:GetRole", resource: role("pilot-shop.web") }],
    ["execution role create", { action: "iam:CreateRole", resource: role("pilot-shop.web") }],
    ["execution role policy", { action: "iam:AttachRolePolicy", resource: role("pilot-shop.web"), context: { "iam:PolicyARN": EXEC_POLICY } }],
    ["execution role to tasks", { action: "iam:PassRole", resource: role("pilot-shop.web"), context: { "iam:PassedToService": "ecs-tasks.amazonaws.com" } }],
    ["log group lookup", { action: "logs:DescribeLogGroups", resource: `arn:aws:logs:${R}:${A}:log-group:*` }],
    ["log group create", { action: "logs:CreateLogGroup", resource: `arn:aws:logs:${R}:${A}:log-group:/pilot/shop/apps` }],
    ["subnets", { action: "ec2:DescribeSubnets", resource: "*", context: { "aws:RequestedRegion": R } }],
    ["group create: the VPC", { action: "ec2:CreateSecurityGroup", resource: vpc("vpc-0abc") }],
    ["group create: the group", { action: "ec2:CreateSecurityGroup", resource: sg("sg-0new") }],
    ["group ingress", { action: "ec2:AuthorizeSecurityGroupIngress", resource: sg("sg-0web"), context: inStackVpc }],
    ["load balancer create", { action: "elasticloadbalancing:CreateLoadBalancer", resource: lb("waypoint-ecs-web"), context: { "aws:RequestTag/waypoint_managed": "true" } }],
    ["load balancer tags", { action: "elasticloadbalancing:AddTags", resource: lb("waypoint-ecs-web"), context: { "aws:RequestTag/waypoint_managed": "true" } }],
    ["listener create", { action: "elasticloadbalancing:CreateListener", resource: lb("waypoint-ecs-web"), context: waypointLb }],
    ["release", { action: "elasticloadbalancing:ModifyListener", resource: listener("waypoint-ecs-web") }],
    ["target group", { action: "elasticloadbalancing:CreateTargetGroup", resource: tg(DEPLOYMENT) }],
  ];
  it.each(calls)("%s", (_name, req) => {
    expect(allowed(req)).toBe(true);
  });
});

describe("every create the runner may make has its delete (waypoint destroy leaves nothing billable)", () => {
  const pairs: [string, PolicyRequest, PolicyRequest][] = [
    ["service", { action: "ecs:CreateService", resource: service("pilot-shop", DEPLOYMENT) }, { action: "ecs:DeleteService", resource: service("pilot-shop", DEPLOYMENT) }],
    [
      "task definition",
      { action: "ecs:RegisterTaskDefinition", resource: "*", context: { "aws:RequestedRegion": R } },
      { action: "ecs:DeregisterTaskDefinition", resource: "*", context: { "aws:RequestedRegion": R } },
    ],
    [
      "load balancer",
      { action: "elasticloadbalancing:CreateLoadBalancer", resource: lb("waypoint-ecs-web"), context: { "aws:RequestTag/waypoint_managed": "true" } },
      { action: "elasticloadbalancing:DeleteLoadBalancer", resource: lb("waypoint-ecs-web"), context: waypointLb },
    ],
    [
      "listener",
      { action: "elasticloadbalancing:CreateListener", resource: lb("waypoint-ecs-web"), context: waypointLb },
      { action: "elasticloadbalancing:DeleteListener", resource: listener("waypoint-ecs-web") },
    ],
    ["target group", { action: "elasticloadbalancing:CreateTargetGroup", resource: tg(DEPLOYMENT) }, { action: "elasticloadbalancing:DeleteTargetGroup", resource: tg(DEPLOYMENT) }],
    ["security group", { action: "ec2:CreateSecurityGroup", resource: sg("sg-0web") }, { action: "ec2:DeleteSecurityGroup", resource: sg("sg-0web"), context: inStackVpc }],
  ];
  it.each(pairs)("%s", (_name, create, del) => {
    expect(allowed(create)).toBe(true);
    expect(allowed(del)).toBe(true);
  });

  it("every Create/Register action in the policy has its Delete/Deregister beside it", () => {
    const actions = new Set(policy.flatMap((s) => s.Action));
    // The plugin never deletes these; `pilot teardown` removes the stack with its apps' leftovers.
    const keptByDesign = new Set(["ecs:CreateCluster", "iam:CreateRole", "iam:CreateServiceLinkedRole", "logs:CreateLogGroup"]);
    for (const a of actions) {
      const m = /^(\w+):(Create|Register)(\w+)$/.exec(a);
      if (!m || keptByDesign.has(a)) continue;
      expect(actions, `${a} without its delete`).toContain(`${m[1]}:${m[2] === "Create" ? "Delete" : "Deregister"}${m[3]}`);
    }
  });
});

describe("the server role reaches nothing that is not the stack's apps'", () => {
  const denied: [string, PolicyRequest][] = [
    ["push to another stack's repository", { action: "ecr:PutImage", resource: repo("pilot-shop2/web/api"), context: { "aws:ResourceTag/pilot:stack-id": "lineage-1" } }],
    ["push to a repository named like ours but untagged", { action: "ecr:PutImage", resource: repo("pilot-shop/web/api") }],
    ["push to a repository named like ours, another lineage", { action: "ecr:PutImage", resource: repo("pilot-shop/web/api"), context: { "aws:ResourceTag/pilot:stack-id": "lineage-2" } }],
    ["create any repository", { action: "ecr:CreateRepository", resource: repo("pilot-shop/web/api"), context: ours }],
    ["update a service of another cluster", { action: "ecs:UpdateService", resource: service("prod", "api") }],
    ["delete a service of another cluster", { action: "ecs:DeleteService", resource: service("waypoint", "api") }],
    ["create a service in another stack's cluster", { action: "ecs:CreateService", resource: service("pilot-shop2", DEPLOYMENT) }],
    ["retag any ECS resource", { action: "ecs:TagResource", resource: service("prod", "api") }],
    ["pass the server's own role", { action: "iam:PassRole", resource: role("pilot-shop-server-1a2b3c"), context: { "iam:PassedToService": "ecs-tasks.amazonaws.com" } }],
    ["pass another stack's role", { action: "iam:PassRole", resource: role("pilot-shop2.web"), context: { "iam:PassedToService": "ecs-tasks.amazonaws.com" } }],
    ["pass an app role to EC2", { action: "iam:PassRole", resource: role("pilot-shop.web"), context: { "iam:PassedToService": "ec2.amazonaws.com" } }],
    ["attach an admin policy", { action: "iam:AttachRolePolicy", resource: role("pilot-shop.web"), context: { "iam:PolicyARN": "arn:aws:iam::aws:policy/AdministratorAccess" } }],
    ["put an inline policy", { action: "iam:PutRolePolicy", resource: role("pilot-shop.web") }],
    ["create a group in another VPC", { action: "ec2:CreateSecurityGroup", resource: vpc("vpc-0other") }],
    ["open the stack's database group", { action: "ec2:AuthorizeSecurityGroupIngress", resource: sg("sg-0db"), context: { ...inStackVpc, ...ours } }],
    ["delete the stack's server group", { action: "ec2:DeleteSecurityGroup", resource: sg("sg-0server"), context: { ...inStackVpc, ...ours } }],
    ["open a group in another VPC", { action: "ec2:AuthorizeSecurityGroupIngress", resource: sg("sg-0x"), context: { "ec2:Vpc": vpc("vpc-0other") } }],
    ["tag anything", { action: "ec2:CreateTags", resource: sg("sg-0x"), context: inStackVpc }],
    ["run an instance", { action: "ec2:RunInstances", resource: `arn:aws:ec2:${R}:${A}:instance/*` }],
    ["terminate an instance", { action: "ec2:TerminateInstances", resource: `arn:aws:ec2:${R}:${A}:instance/i-0abc`, context: ours }],
    ["delete a load balancer the plugin did not make", { action: "elasticloadbalancing:DeleteLoadBalancer", resource: lb("waypoint-ecs-web") }],
    ["delete someone's load balancer", { action: "elasticloadbalancing:DeleteLoadBalancer", resource: lb("prod-api"), context: waypointLb }],
    ["create a load balancer without the plugin's tag", { action: "elasticloadbalancing:CreateLoadBalancer", resource: lb("waypoint-ecs-web") }],
    ["change someone's listener", { action: "elasticloadbalancing:ModifyListener", resource: listener("prod-api") }],
    ["create another log group", { action: "logs:CreateLogGroup", resource: `arn:aws:logs:${R}:${A}:log-group:/aws/lambda/x` }],
    ["act in another region", { action: "ecs:RegisterTaskDefinition", resource: "*", context: { "aws:RequestedRegion": "us-east-1" } }],
    ["touch the database", { action: "rds:DeleteDBInstance", resource: `arn:aws:rds:${R}:${A}:db:pilot-shop-db`, context: ours }],
  ];
  it.each(denied)("%s", (_name, req) => {
    expect(allowed(req)).toBe(false);
  });

  it("has no wildcard action, and fits IAM's 10,240-character limit for a role's inline policies", () => {
    for (const s of policy) for (const a of s.Action) expect(a).not.toMatch(/\*/);
    expect(serverPolicy(input).length).toBeLessThan(10_240);
  });
});

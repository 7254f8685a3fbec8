/**
 * The Pilot server's IAM permissions: what the Waypoint runner on it calls to
 * push into ECR and deploy to ECS with Waypoint 0.11.4's `aws-ecr` registry
 * and `aws-ecs` platform plugins (builtin/aws/ecr, builtin/aws/ecs), for this
 * stack's apps only. Any container on the server can read these credentials
 * (the metadata hop limit is 2 so the runner can), so every statement is as
 * narrow as resource ARNs and condition keys allow, and says why it exists.
 * Every create is paired with its delete, so `waypoint destroy` leaves nothing
 * billable behind. "*" is used only for calls AWS cannot scope to a resource.
 */
import {
  appExecutionRolePattern,
  appLogGroupName,
  ecrRepositoryPrefix,
  ecsClusterName,
  PLUGIN_LB_PREFIX,
  PLUGIN_LB_TAG,
} from "./app-names.js";
import { TAG_STACK_ID } from "./shared.js";

/** What the policy is scoped to. */
export interface ServerPolicyInput {
  region: string;
  stack: string;
  /** The stack's lineage, carried by every resource Pilot tags (pilot:stack-id). */
  stackId: string;
  /** The stack's VPC: the only one the runner may make security groups in. */
  vpcId: string;
}

/** One IAM policy statement. */
export interface PolicyStatement {
  Sid: string;
  Effect: "Allow" | "Deny";
  Action: string[];
  Resource: string | string[];
  Condition?: Record<string, Record<string, string | string[]>>;
}

/** The trust policy: only EC2 (the server's instance profile) may assume the role. */
export function ec2AssumeRolePolicy(): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" }],
  });
}

/** The inline policy of the server role. */
export function serverPolicy(input: ServerPolicyInput): string {
  return JSON.stringify({ Version: "2012-10-17", Statement: serverPolicyStatements(input) });
}

export function serverPolicyStatements({ region, stack, stackId, vpcId }: ServerPolicyInput): PolicyStatement[] {
  const inRegion = { StringEquals: { "aws:RequestedRegion": region } };
  const cluster = `arn:aws:ecs:${region}:*:cluster/${ecsClusterName(stack)}`;
  const roles = `arn:aws:iam::*:role/${appExecutionRolePattern(stack)}`;
  const vpc = `arn:aws:ec2:${region}:*:vpc/${vpcId}`;
  const lb = `arn:aws:elasticloadbalancing:${region}:*:loadbalancer/app/${PLUGIN_LB_PREFIX}*/*`;
  const listener = `arn:aws:elasticloadbalancing:${region}:*:listener/app/${PLUGIN_LB_PREFIX}*/*/*`;
  const targetGroup = `arn:aws:elasticloadbalancing:${region}:*:targetgroup/*/*`;
  return [
    // --- aws-ecr registry: `pilot new app` creates and tags the repository, the plugin only pushes.
    {
      // The docker login token: GetAuthorizationToken has no resource to scope to.
      Sid: "EcrLogin",
      Effect: "Allow",
      Action: ["ecr:GetAuthorizationToken"],
      Resource: "*",
    },
    {
      // The plugin checks the repository exists, then pushes (the layer calls are docker push's).
      // Only the stack's repositories, and only those carrying its lineage tag: a repository
      // named like ours but made by someone else's hand is not ours to overwrite.
      Sid: "EcrPushToStackRepositories",
      Effect: "Allow",
      Action: [
        "ecr:DescribeRepositories",
        "ecr:BatchCheckLayerAvailability",
        "ecr:InitiateLayerUpload",
        "ecr:UploadLayerPart",
        "ecr:CompleteLayerUpload",
        "ecr:PutImage",
        "ecr:BatchGetImage",
        "ecr:GetDownloadUrlForLayer",
      ],
      Resource: `arn:aws:ecr:${region}:*:repository/${ecrRepositoryPrefix(stack)}*`,
      Condition: { StringEquals: { [`aws:ResourceTag/${TAG_STACK_ID}`]: stackId } },
    },
    // --- aws-ecs platform: cluster, task definitions, services.
    {
      // The stack's own cluster (waypoint.hcl sets `cluster`): found, or created on first deploy.
      Sid: "EcsStackCluster",
      Effect: "Allow",
      Action: ["ecs:DescribeClusters", "ecs:CreateCluster"],
      Resource: cluster,
    },
    {
      // Deploy creates a service per deployment; destroy deletes it. Services of the stack's cluster only.
      Sid: "EcsStackServices",
      Effect: "Allow",
      Action: ["ecs:CreateService", "ecs:DescribeServices", "ecs:DeleteService"],
      Resource: `arn:aws:ecs:${region}:*:service/${ecsClusterName(stack)}/*`,
    },
    {
      // Status reads the tasks of a service: ListTasks is authorized on the cluster it names.
      Sid: "EcsStackTasks",
      Effect: "Allow",
      Action: ["ecs:ListTasks", "ecs:DescribeTasks"],
      Resource: [`arn:aws:ecs:${region}:*:container-instance/${ecsClusterName(stack)}/*`, `arn:aws:ecs:${region}:*:task/${ecsClusterName(stack)}/*`],
      Condition: { ArnLike: { "ecs:cluster": cluster } },
    },
    {
      // Register on deploy, deregister on destroy: AWS offers no resource-level permission for either.
      Sid: "EcsTaskDefinitions",
      Effect: "Allow",
      Action: ["ecs:RegisterTaskDefinition", "ecs:DeregisterTaskDefinition"],
      Resource: "*",
      Condition: inRegion,
    },
    {
      // The plugin tags each task definition (waypoint-app); tagging on create needs TagResource,
      // allowed only inside RegisterTaskDefinition so no existing resource can be retagged.
      Sid: "EcsTagOnRegister",
      Effect: "Allow",
      Action: ["ecs:TagResource"],
      Resource: `arn:aws:ecs:${region}:*:task-definition/*`,
      Condition: { StringEquals: { "ecs:CreateAction": "RegisterTaskDefinition" } },
    },
    // --- The task execution role (waypoint.hcl sets `execution_role_name`, under the stack's prefix).
    {
      // Found by name, or created with an ecs-tasks trust policy, and its attached policies read.
      Sid: "AppExecutionRoles",
      Effect: "Allow",
      Action: ["iam:GetRole", "iam:CreateRole", "iam:ListAttachedRolePolicies"],
      Resource: roles,
    },
    {
      // ...given AWS's managed execution policy (pull the image, write logs); the condition refuses any other.
      Sid: "AppExecutionRolePolicy",
      Effect: "Allow",
      Action: ["iam:AttachRolePolicy"],
      Resource: roles,
      Condition: { ArnEquals: { "iam:PolicyARN": "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy" } },
    },
    {
      // ...and handed to ECS tasks, and to nothing else. The server's own role is not under this prefix.
      Sid: "PassAppRolesToEcs",
      Effect: "Allow",
      Action: ["iam:PassRole"],
      Resource: roles,
      Condition: { StringEquals: { "iam:PassedToService": "ecs-tasks.amazonaws.com" } },
    },
    {
      // A first cluster or load balancer in an account makes AWS create its service-linked role
      // under the caller's permissions; only those two roles, and only for those services.
      Sid: "ServiceLinkedRoles",
      Effect: "Allow",
      Action: ["iam:CreateServiceLinkedRole"],
      Resource: [
        "arn:aws:iam::*:role/aws-service-role/ecs.amazonaws.com/AWSServiceRoleForECS",
        "arn:aws:iam::*:role/aws-service-role/elasticloadbalancing.amazonaws.com/AWSServiceRoleForElasticLoadBalancing",
      ],
      Condition: { StringEquals: { "iam:AWSServiceName": ["ecs.amazonaws.com", "elasticloadbalancing.amazonaws.com"] } },
    },
    // --- Container logs (waypoint.hcl sets `log_group`): the tasks write through the execution role.
    {
      // The plugin looks the group up by prefix: a list call, authorized on every group of the region.
      Sid: "AppLogGroupLookup",
      Effect: "Allow",
      Action: ["logs:DescribeLogGroups"],
      Resource: `arn:aws:logs:${region}:*:log-group:*`,
    },
    {
      // ...and creates the stack's group when it is missing.
      Sid: "AppLogGroup",
      Effect: "Allow",
      Action: ["logs:CreateLogGroup"],
      Resource: [`arn:aws:logs:${region}:*:log-group:${appLogGroupName(stack)}`, `arn:aws:logs:${region}:*:log-group:${appLogGroupName(stack)}:*`],
    },
    // --- Networking: the plugin makes "<app>-inbound" groups for the service and its load balancer.
    {
      // Describe calls have no resource-level permissions.
      Sid: "NetworkLookup",
      Effect: "Allow",
      Action: ["ec2:DescribeSubnets", "ec2:DescribeSecurityGroups"],
      Resource: "*",
      Condition: inRegion,
    },
    {
      // The plugin creates its groups untagged, so no request-tag condition can hold; instead
      // a group may be made only in the stack's VPC (CreateSecurityGroup is authorized on both).
      Sid: "AppSecurityGroupsCreate",
      Effect: "Allow",
      Action: ["ec2:CreateSecurityGroup"],
      Resource: [vpc, `arn:aws:ec2:${region}:*:security-group/*`],
    },
    {
      // Open and, on destroy, delete groups in the stack's VPC that Pilot did not tag: the
      // plugin's. The stack's own groups (server, apps, database) carry the lineage tag, so the
      // runner can neither open the database to the world nor delete the server's group.
      Sid: "AppSecurityGroupsChange",
      Effect: "Allow",
      Action: ["ec2:AuthorizeSecurityGroupIngress", "ec2:DeleteSecurityGroup"],
      Resource: `arn:aws:ec2:${region}:*:security-group/*`,
      Condition: { ArnLike: { "ec2:Vpc": vpc }, Null: { [`aws:ResourceTag/${TAG_STACK_ID}`]: "true" } },
    },
    // --- The load balancer in front of each service (release moves its listener).
    {
      // Describe calls have no resource-level permissions.
      Sid: "LoadBalancerLookup",
      Effect: "Allow",
      Action: [
        "elasticloadbalancing:DescribeLoadBalancers",
        "elasticloadbalancing:DescribeListeners",
        "elasticloadbalancing:DescribeTargetGroups",
        "elasticloadbalancing:DescribeTargetHealth",
        "elasticloadbalancing:DescribeTags",
      ],
      Resource: "*",
      Condition: inRegion,
    },
    {
      // The plugin's load balancer: created with its waypoint_managed tag (which needs AddTags,
      // allowed inside that create only), deleted on destroy only while it still carries the tag.
      Sid: "AppLoadBalancerCreate",
      Effect: "Allow",
      Action: ["elasticloadbalancing:CreateLoadBalancer", "elasticloadbalancing:AddTags"],
      Resource: lb,
      Condition: { StringEquals: { [`aws:RequestTag/${PLUGIN_LB_TAG}`]: "true" } },
    },
    {
      Sid: "AppLoadBalancerChange",
      Effect: "Allow",
      Action: ["elasticloadbalancing:CreateListener", "elasticloadbalancing:DeleteLoadBalancer"],
      Resource: lb,
      Condition: { StringEquals: { [`aws:ResourceTag/${PLUGIN_LB_TAG}`]: "true" } },
    },
    {
      // Release points the listener at the new deployment; destroy removes it.
      Sid: "AppListeners",
      Effect: "Allow",
      Action: ["elasticloadbalancing:ModifyListener", "elasticloadbalancing:DeleteListener"],
      Resource: listener,
    },
    {
      // One target group per deployment, named by the deployment id (the plugin gives no prefix
      // and no tags, so the region is as narrow as it goes); destroy deletes it.
      Sid: "AppTargetGroups",
      Effect: "Allow",
      Action: ["elasticloadbalancing:CreateTargetGroup", "elasticloadbalancing:DeleteTargetGroup"],
      Resource: targetGroup,
    },
  ];
}

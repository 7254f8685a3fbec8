/**
 * The Pilot server's IAM permissions: what the Waypoint runner on it needs
 * to build into ECR and deploy to ECS with Waypoint's `aws-ecr` registry and
 * `aws-ecs` platform plugins, and nothing else. Every statement says why.
 * Describe/List/Register calls that AWS cannot scope to a resource use "*";
 * everything that creates, changes or passes something is scoped by name.
 */

/** Role names the runner may create and pass to ECS tasks: Waypoint's default execution role
 * name is "ecr-<app>", and the waypoint.hcl Pilot generates names its roles "pilot-app-<app>". */
const APP_ROLES = ["arn:aws:iam::*:role/ecr-*", "arn:aws:iam::*:role/pilot-app-*"];

/** The trust policy: only EC2 (the server's instance profile) may assume the role. */
export function ec2AssumeRolePolicy(): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" }],
  });
}

/** The inline policy of the server role, for one region. */
export function serverPolicy(region: string): string {
  const statements = [
    {
      // `docker login` to ECR: the token call has no resource to scope to.
      Sid: "EcrLogin",
      Effect: "Allow",
      Action: ["ecr:GetAuthorizationToken"],
      Resource: "*",
    },
    {
      // Push and pull app images; the aws-ecr plugin creates the repository on first push.
      Sid: "EcrPushPull",
      Effect: "Allow",
      Action: [
        "ecr:CreateRepository",
        "ecr:DescribeRepositories",
        "ecr:DescribeImages",
        "ecr:BatchCheckLayerAvailability",
        "ecr:InitiateLayerUpload",
        "ecr:UploadLayerPart",
        "ecr:CompleteLayerUpload",
        "ecr:PutImage",
        "ecr:BatchGetImage",
        "ecr:GetDownloadUrlForLayer",
        "ecr:TagResource",
      ],
      Resource: `arn:aws:ecr:${region}:*:repository/*`,
    },
    {
      // Deploy and release: clusters, task definitions and services. RegisterTaskDefinition
      // and the Describe/List calls cannot be scoped to a resource ARN.
      Sid: "EcsDeploy",
      Effect: "Allow",
      Action: [
        "ecs:CreateCluster",
        "ecs:DescribeClusters",
        "ecs:RegisterTaskDefinition",
        "ecs:DeregisterTaskDefinition",
        "ecs:DescribeTaskDefinition",
        "ecs:CreateService",
        "ecs:UpdateService",
        "ecs:DeleteService",
        "ecs:DescribeServices",
        "ecs:ListServices",
        "ecs:ListTasks",
        "ecs:DescribeTasks",
        "ecs:TagResource",
      ],
      Resource: "*",
      Condition: { StringEquals: { "aws:RequestedRegion": region } },
    },
    {
      // The aws-ecs plugin creates each app's task execution role (named as in APP_ROLES).
      Sid: "AppExecutionRoles",
      Effect: "Allow",
      Action: ["iam:CreateRole", "iam:GetRole", "iam:TagRole"],
      Resource: APP_ROLES,
    },
    {
      // ...and attaches AWS's managed execution policy to it; the condition refuses any other policy.
      Sid: "AppExecutionRolePolicy",
      Effect: "Allow",
      Action: ["iam:AttachRolePolicy"],
      Resource: APP_ROLES,
      Condition: { ArnEquals: { "iam:PolicyARN": "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy" } },
    },
    {
      // Hand those roles to ECS tasks, and to nothing else.
      Sid: "PassAppRolesToEcs",
      Effect: "Allow",
      Action: ["iam:PassRole"],
      Resource: APP_ROLES,
      Condition: { StringEquals: { "iam:PassedToService": "ecs-tasks.amazonaws.com" } },
    },
    {
      // Container logs: the plugin creates a log group and the tasks write to it.
      Sid: "AppLogs",
      Effect: "Allow",
      Action: ["logs:CreateLogGroup", "logs:DescribeLogGroups", "logs:PutRetentionPolicy", "logs:TagResource"],
      Resource: `arn:aws:logs:${region}:*:log-group:*`,
    },
    {
      // Networking for services: find the stack's subnets and give each service its own group.
      Sid: "ServiceNetworking",
      Effect: "Allow",
      Action: [
        "ec2:DescribeVpcs",
        "ec2:DescribeSubnets",
        "ec2:DescribeSecurityGroups",
        "ec2:CreateSecurityGroup",
        "ec2:AuthorizeSecurityGroupIngress",
        "ec2:CreateTags",
      ],
      Resource: "*",
      Condition: { StringEquals: { "aws:RequestedRegion": region } },
    },
    {
      // A load balancer in front of each public service (the plugin's ALB, target group and listener).
      Sid: "ServiceLoadBalancers",
      Effect: "Allow",
      Action: [
        "elasticloadbalancing:CreateLoadBalancer",
        "elasticloadbalancing:CreateTargetGroup",
        "elasticloadbalancing:CreateListener",
        "elasticloadbalancing:ModifyListener",
        "elasticloadbalancing:DeleteTargetGroup",
        "elasticloadbalancing:Describe*",
        "elasticloadbalancing:AddTags",
      ],
      Resource: "*",
      Condition: { StringEquals: { "aws:RequestedRegion": region } },
    },
  ];
  return JSON.stringify({ Version: "2012-10-17", Statement: statements });
}

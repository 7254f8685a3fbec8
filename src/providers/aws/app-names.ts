/**
 * Names of what an ECS app of a stack is made of. The waypoint.hcl Pilot
 * writes (src/apps/hcl.ts) gives them to Waypoint's aws-ecs plugin, and the
 * server role's policy (server-policy.ts) grants the runner exactly these, so
 * both read them from here. Stack names hold only [a-z0-9-]: a "." or "/"
 * after the stack name means no stack's pattern matches another stack's names
 * ("pilot-a.*" never matches "pilot-ab.web").
 */

/** The stack's ECS cluster (the plugin's default, "waypoint", would be shared by every stack in the region). */
export function ecsClusterName(stack: string): string {
  return `pilot-${stack}`;
}

/** An app's task execution role; the plugin's default "ecr-<app>" names no stack, so no policy could scope it. */
export function appExecutionRoleName(stack: string, app: string): string {
  return `pilot-${stack}.${app}`;
}

/** IAM resource pattern of every app execution role of the stack. */
export function appExecutionRolePattern(stack: string): string {
  return `pilot-${stack}.*`;
}

/** The stack's log group for its apps' containers (the plugin's default "waypoint-logs" is shared). */
export function appLogGroupName(stack: string): string {
  return `/pilot/${stack}/apps`;
}

/**
 * Prefix of the stack's SSM parameters ("/pilot/<stack>/"): `pilot up` writes each
 * ECS app's database variables under it, and teardown deletes everything under it.
 */
export function stackParameterPath(stack: string): string {
  return `/pilot/${stack}/`;
}

/** An ECS app's own parameters' folder, "/pilot/<stack>/<project>/<app>/" (names hold no "/", so no app's folder holds another's). */
export function appParameterPath(stack: string, project: string, app: string): string {
  return `${stackParameterPath(stack)}${project}/${app}/`;
}

/**
 * The input variable an ECS app's waypoint.hcl declares for the plugin's `secrets`
 * (environment name => SSM parameter name): `pilot up` passes the app's whole folder
 * as its value. Named per app, so two apps' files merged into one project file (or
 * one kept on the server, `pilot new project --waypoint-hcl`) do not collide; app
 * names ([a-z][a-z0-9-]*) are valid HCL identifiers as they are.
 */
export function appSecretsVariable(app: string): string {
  return `pilot_secrets_${app}`;
}

/** The policy AWS provides for task execution roles (pull from ECR, write logs); the plugin attaches the same one. */
export const ECS_TASK_EXECUTION_POLICY_ARN = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy";

/** Prefix of the stack's ECR repositories (src/apps/ecr.ts names them "pilot-<stack>/<project>/<app>"). */
export function ecrRepositoryPrefix(stack: string): string {
  return `pilot-${stack}/`;
}

/**
 * The aws-ecs plugin names each app's load balancer "waypoint-ecs-<app>" and
 * offers no setting for it, so the load balancer pattern cannot name the stack;
 * the plugin's own `waypoint_managed` tag narrows it instead.
 */
export const PLUGIN_LB_PREFIX = "waypoint-ecs-";
export const PLUGIN_LB_TAG = "waypoint_managed";

/**
 * The task execution role of an ECS app with `--with-db` (issue 10): ECS reads
 * the app's database variables from SSM Parameter Store with this role when a
 * task starts, so it must be allowed to, and Waypoint's aws-ecs plugin uses an
 * existing role as it is (platform.go resourceExecutionRoleCreate: GetRole,
 * and only when that finds nothing, CreateRole + AmazonECSTaskExecutionRolePolicy).
 * `pilot new app` therefore makes the role `pilot-<stack>.<app>` itself, from
 * the user's machine: ECS's trust, AWS's execution policy, and one inline
 * policy per project reading only `/pilot/<stack>/<project>/<app>/*`.
 *
 * The plugin names roles by app alone, so apps of one name in two projects of
 * a stack share the role; each project's inline policy has its own name, so
 * neither overwrites the other's. `pilot teardown` deletes the stack's app
 * roles with their policies (app-infrastructure.ts).
 *
 * Loaded lazily, so `pilot --help` loads no IAM SDK.
 */
import {
  AttachRolePolicyCommand,
  CreateRoleCommand,
  GetRoleCommand,
  IAMClient,
  PutRolePolicyCommand,
  UpdateAssumeRolePolicyCommand,
  type Role,
} from "@aws-sdk/client-iam";
import type { StackTags } from "../../engine/types.js";
import type { PollEnv } from "../scaffold.js";
import { appExecutionRoleName, appParameterPath, ECS_TASK_EXECUTION_POLICY_ARN } from "./app-names.js";
import { attempt, createOrAdopt, describeAction, isErrorCode, orGone, retryNotFound, stackTagList, tagValue, TAG_STACK, TAG_STACK_ID } from "./shared.js";
import { clientConfig } from "./client-config.js";

const TYPE = "aws.iam.role";
const GONE = ["NoSuchEntity"];

/** Configured as every AWS client is (client-config.ts). */
export function createIamClient(region: string): IAMClient {
  return new IAMClient(clientConfig(region));
}

/** Who may assume the role: ECS tasks, as the plugin's own role says (platform.go rolePolicy). */
export function ecsTasksTrustPolicy(): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Principal: { Service: "ecs-tasks.amazonaws.com" }, Action: "sts:AssumeRole" }],
  });
}

/** One inline policy per project: same-named apps of two projects share the role (see above). */
export function appParametersPolicyName(project: string): string {
  return `pilot-parameters-${project}`;
}

/**
 * GetParameters (what ECS calls for a task's `secrets`) on the app's own folder
 * only. The parameters are SecureStrings under AWS's own `aws/ssm` key, which
 * needs no kms:Decrypt grant.
 */
export function appParametersPolicy(region: string, stack: string, project: string, app: string): string {
  // A parameter's ARN drops the name's leading "/": arn:aws:ssm:R:A:parameter/pilot/...
  const folder = appParameterPath(stack, project, app).slice(1);
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [{ Sid: "ReadAppParameters", Effect: "Allow", Action: ["ssm:GetParameters"], Resource: `arn:aws:ssm:${region}:*:parameter/${folder}*` }],
  });
}

/** The role's tag key ("app-role/web"): one role per app name in a stack. */
export function appRoleTagKey(app: string): string {
  return `app-role/${app}`;
}

export interface AppExecutionRole {
  name: string;
  arn: string;
  /** False when a role of that name already carrying this stack's tags was adopted. */
  created: boolean;
}

export interface EnsureAppExecutionRole extends PollEnv {
  stack: string;
  stackId: string;
  region: string;
  project: string;
  app: string;
}

/**
 * Creates the app's execution role, or adopts one of that name tagged with this
 * stack's lineage, then sets its trust, attaches AWS's execution policy and
 * writes the project's inline policy (all idempotent, so a crashed run is
 * finished by the next). A role of that name not tagged as this stack's is
 * refused and left alone: it may be another stack's, or one the plugin made
 * untagged on an earlier deploy (the hint says how to claim that one).
 */
export async function ensureAppExecutionRole(iam: IAMClient, opts: EnsureAppExecutionRole): Promise<AppExecutionRole> {
  const name = appExecutionRoleName(opts.stack, opts.app);
  const action = describeAction("create", TYPE, name, "global");
  const tags: StackTags = { stack: opts.stack, stackId: opts.stackId, key: appRoleTagKey(opts.app) };
  const getRole = async (): Promise<Role | undefined> => (await orGone(GONE, () => iam.send(new GetRoleCommand({ RoleName: name }))))?.Role;
  const res = await createOrAdopt({
    action,
    name: `an IAM role named ${name}`,
    create: async () =>
      (
        await iam.send(
          new CreateRoleCommand({
            RoleName: name,
            Description: `ECS task execution role of app ${opts.app} of Pilot stack ${opts.stack}: pulls its image, writes its logs, reads its SSM parameters`,
            AssumeRolePolicyDocument: ecsTasksTrustPolicy(),
            // Tagged in the create call itself: no window in which it exists untagged.
            Tags: stackTagList(tags),
          }),
        )
      ).Role!,
    isAlreadyExists: (err) => isErrorCode(err, "EntityAlreadyExists"),
    existing: getRole,
    isOurs: (role) => tagValue(role.Tags, TAG_STACK_ID) === opts.stackId,
    hint:
      `If Waypoint made it for this app on an earlier deploy (the plugin tags nothing), claim it for this stack: ` +
      `\`aws iam tag-role --role-name ${name} --tags Key=${TAG_STACK},Value=${opts.stack} Key=${TAG_STACK_ID},Value=${opts.stackId}\`, then run this again. ` +
      `Otherwise delete or rename that role, or pick another --app name.`,
  });
  const role = res.created ?? res.adopted;
  // Just created: IAM may not see the role yet (NoSuchEntity), so what follows is retried for a while.
  await retryNotFound(opts, GONE, () =>
    attempt(action, async () => {
      // An adopted role may have been changed by hand: its trust and policies are set again.
      await iam.send(new UpdateAssumeRolePolicyCommand({ RoleName: name, PolicyDocument: ecsTasksTrustPolicy() }));
      await iam.send(new AttachRolePolicyCommand({ RoleName: name, PolicyArn: ECS_TASK_EXECUTION_POLICY_ARN }));
      await iam.send(
        new PutRolePolicyCommand({
          RoleName: name,
          PolicyName: appParametersPolicyName(opts.project),
          PolicyDocument: appParametersPolicy(opts.region, opts.stack, opts.project, opts.app),
        }),
      );
    }),
  );
  return { name, arn: role.Arn!, created: res.created !== undefined };
}

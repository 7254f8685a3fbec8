/**
 * The waypoint.hcl `pilot new app` writes: a pure function of the app's
 * answers and the values taken from the stack's state. Every plugin field used
 * here exists in Waypoint 0.11.4's builtin plugins (builtin/docker,
 * builtin/pack, builtin/aws/ecr, builtin/aws/ecs, builtin/google/cloudrun,
 * builtin/null);
 * the e2e tier checks each generated file with the real Waypoint binary.
 */
import { appExecutionRoleName, appLogGroupName, appParameterPath, appSecretsVariable, ecsClusterName } from "../providers/aws/app-names.js";
import { DATABASE_VARIABLE_NAMES } from "../providers/database-url.js";
import type { ProviderName } from "../state/schema.js";
import { attr, blank, block, comment, expr, renderHcl, type HclItem } from "./hcl-writer.js";
import type { AppBuilder } from "./names.js";

/** The docker platform: a container beside the Waypoint server, on the server's Docker engine. */
export interface DockerDeploy {
  target: "docker";
  /** The stack's Docker network, where the Waypoint server container is. */
  network: string;
  /** The server host's folder holding the stack CA certificate alone (never the server's key). */
  caHostDir: string;
  /** Where the app's container sees that folder, and the certificate in it. */
  caContainerDir: string;
  caContainerFile: string;
}

/** ECS on Fargate, images in the app's own ECR repository. */
export interface EcsDeploy {
  target: "ecs";
  region: string;
  /** ECR repository name (not URI): the aws-ecr registry plugin takes the name. */
  repository: string;
  /** The stack's public subnets (two zones: an internet-facing load balancer needs two). */
  subnets: string[];
  /** The stack's apps security group: the database admits it, and it admits the load balancers. */
  appsGroupId: string;
  /** The stack's load balancers' security group: HTTP from the ranges the stack allows. */
  lbGroupId: string;
}

/** Cloud Run, images in the stack's Artifact Registry repository, the database reached through the VPC connector. */
export interface CloudRunDeploy {
  target: "cloud-run";
  project: string;
  region: string;
  /** REGION-docker.pkg.dev/PROJECT/REPOSITORY/APP */
  image: string;
  /** projects/P/locations/R/connectors/N */
  connector: string;
  /** The stack's service account for its Cloud Run apps (the service's identity; no project role). */
  serviceAccount: string;
}

export type DeploySpec = DockerDeploy | EcsDeploy | CloudRunDeploy;

/** Everything the document is made from. */
export interface AppHclInput {
  stack: string;
  provider: ProviderName;
  /** host:port of the stack's Waypoint server, for the header; undefined before the server exists. */
  serverAddress?: string;
  project: string;
  app: string;
  builder: AppBuilder;
  port: number;
  withDb: boolean;
  /**
   * Open the app to everyone (`pilot new app --public`; cloud-run only). Recorded in state,
   * where `pilot up` reads it: the file only says so in a comment.
   */
  public?: boolean;
  deploy: DeploySpec;
}

/** Fargate's smallest valid pair (0.25 vCPU, 512 MiB): enough for a small web app, cheapest to leave running. */
export const ECS_CPU = 256;
export const ECS_MEMORY_MIB = 512;

/** One tag, moved by every build: `pilot up` always deploys what it just built. */
export const IMAGE_TAG = "latest";

export function renderAppHcl(input: AppHclInput): string {
  return renderHcl(appHclItems(input));
}

export function appHclItems(input: AppHclInput): HclItem[] {
  const key = `${input.project}/${input.app}`;
  const where = input.serverAddress ? `; Waypoint server ${input.serverAddress}` : "";
  return [
    comment(`waypoint.hcl of ${key}, written by \`pilot new app\` from the state of Pilot stack\n"${input.stack}" (${input.provider}${where}).\n\`pilot up ${key}\` builds and deploys it through the server's runner.`),
    blank,
    attr("project", input.project),
    blank,
    comment("Jobs run remotely, on the Pilot server's runner; the git data source they check\nthe code out from is the project's, set on the server by `pilot new project`."),
    block("runner", [], [attr("enabled", true)]),
    blank,
    ...(input.deploy.target === "ecs" ? [...ecsSecretsVariable(input, key), blank] : []),
    block("app", [input.app], appBody(input, key)),
  ];
}

/**
 * An ECS app's environment: an input variable mapping each variable name to an SSM
 * parameter in the app's folder, which the deploy block hands to the plugin's `secrets`.
 * A literal map would be fixed when this file is written; `pilot up` instead passes the
 * folder's parameters as they are then (`waypoint up -var`), so `pilot env set` reaches
 * the app without a new file. The default (the database's parameters with --with-db)
 * is what a deploy that Pilot did not start gets.
 */
function ecsSecretsVariable(input: AppHclInput, key: string): HclItem[] {
  const path = appParameterPath(input.stack, input.project, input.app);
  const names = input.withDb ? DATABASE_VARIABLE_NAMES : [];
  return [
    comment(
      `The app's environment from SSM Parameter Store (variable name => parameter name), for\n` +
        `the aws-ecs plugin's \`secrets\` below. \`pilot up ${key}\` passes every parameter under\n` +
        (input.withDb
          ? `${path} as this variable: the database's, which it writes itself, and\n` +
            `those \`pilot env set ${key}\` wrote. The default is for a deploy Pilot did not start.`
          : `${path} as this variable: those \`pilot env set ${key}\` wrote.\n` +
            `The default is for a deploy Pilot did not start.`),
    ),
    block("variable", [appSecretsVariable(input.app)], [
      attr("type", expr("map(string)")),
      attr("default", { map: Object.fromEntries(names.map((name) => [name, `${path}${name}`])) }),
    ]),
  ];
}

function appBody(input: AppHclInput, key: string): HclItem[] {
  const body: HclItem[] = [];
  if (input.withDb && input.deploy.target === "ecs") {
    body.push(
      comment(
        `DATABASE_URL is not in this file, on purpose: \`pilot up ${key}\` writes it (and libpq's\n` +
          `PG* variables) to SSM Parameter Store as SecureString parameters, and ECS hands them\n` +
          `to the app when its task starts (the variable above names them, with no value), so\n` +
          `no password is ever committed with the code.`,
      ),
    );
  } else if (input.withDb && input.deploy.target === "cloud-run") {
    body.push(
      comment(
        `DATABASE_URL is not in this file, on purpose: \`pilot up ${key}\` sets it as the app's\n` +
          `config on the Waypoint server, and writes that config (\`pilot env\`) to Secret Manager,\n` +
          `from where Cloud Run hands it to the app; no password is ever committed with the code.`,
      ),
    );
  } else if (input.withDb) {
    body.push(
      comment(`DATABASE_URL is not in this file, on purpose: \`pilot up ${key}\` sets it as the app's\nconfig on the Waypoint server (\`pilot env list ${key}\` shows it), which hands it to\nthe app at run time, so no password is ever committed with the code.`),
    );
  }
  body.push(block("build", [], buildBody(input)), blank, block("deploy", [], [deployUse(input)]));
  // The docker and ECS platforms need no release step. Cloud Run's is Pilot's own (cloudRunRelease).
  if (input.deploy.target === "cloud-run") body.push(blank, ...cloudRunRelease(input));
  return body;
}

function buildBody(input: AppHclInput): HclItem[] {
  // Both builders produce a local image; Waypoint injects its entrypoint (logs, exec, config) unless told not to.
  const items: HclItem[] = [block("use", [input.builder], [])];
  const d = input.deploy;
  if (d.target === "ecs") {
    items.push(
      blank,
      block("registry", [], [block("use", ["aws-ecr"], [attr("region", d.region), attr("repository", d.repository), attr("tag", IMAGE_TAG)])]),
    );
  } else if (d.target === "cloud-run") {
    items.push(
      blank,
      comment("The stack's Artifact Registry repository (Cloud Run pulls only from Google's registries)."),
      block("registry", [], [block("use", ["docker"], [attr("image", d.image), attr("tag", IMAGE_TAG)])]),
    );
  }
  return items;
}

/**
 * The plugin's `secrets`: the app's variable of SSM parameter names (`pilot up` writes
 * the database's, `pilot env set` the others; the task's execution role may read that
 * folder only). Names, not ARNs: ECS takes a parameter's name when it is in the task's
 * own region, which it is, and a name needs no account id.
 */
function ecsSecrets(input: AppHclInput): HclItem[] {
  return [
    comment(
      "The app's environment, read by ECS from SSM Parameter Store when the task starts, with\n" +
        "the execution role `pilot new app` made (it may read the app's own folder only).",
    ),
    attr("secrets", expr(`var.${appSecretsVariable(input.app)}`)),
  ];
}

function deployUse(input: AppHclInput): HclItem {
  const d = input.deploy;
  if (d.target === "docker") {
    return block("use", ["docker"], [
      attr("service_port", input.port),
      comment("The stack's Docker network, where the Waypoint server is: the entrypoint Waypoint\ninjects into the image reaches the server there."),
      attr("networks", [d.network]),
      comment("The stack's CA, read-only, so the entrypoint verifies the server's certificate."),
      attr("binds", [`${d.caHostDir}:${d.caContainerDir}:ro`]),
      attr("static_environment", { map: { SSL_CERT_FILE: d.caContainerFile } }),
      comment("How Pilot finds the app's containers (for its URL, logs, pruning and destroy)."),
      attr("labels", { map: { "pilot.app": `${input.project}/${input.app}`, "pilot.stack": input.stack } }),
    ]);
  }
  if (d.target === "ecs") {
    return block("use", ["aws-ecs"], [
      attr("region", d.region),
      comment("The stack's own cluster, execution role and log group: the server's role may\ntouch these and no others (the plugin's defaults are shared by every stack)."),
      attr("cluster", ecsClusterName(input.stack)),
      attr("execution_role_name", appExecutionRoleName(input.stack, input.app)),
      attr("log_group", appLogGroupName(input.stack)),
      attr("cpu", ECS_CPU),
      attr("memory", ECS_MEMORY_MIB),
      attr("service_port", input.port),
      ...ecsSecrets(input),
      comment(
        "The stack's public subnets, with a public address so the task pulls its image from ECR\n" +
          "without a NAT gateway. Its groups admit the load balancer on any port (sg-apps) and\n" +
          "HTTP from the ranges the load balancer admits (sg-lb); the database admits sg-apps.",
      ),
      attr("subnets", d.subnets),
      attr("assign_public_ip", true),
      comment(
        "Both groups: the plugin gives its load balancer the service's groups whenever\n" +
          "alb.security_group_ids is set (so it makes no group open to the world).",
      ),
      attr("security_group_ids", [d.appsGroupId, d.lbGroupId]),
      comment("Internet-facing, reachable on HTTP from the ranges the stack allows (pilot up-server --public-apps: anyone)."),
      block("alb", [], [attr("subnets", d.subnets), attr("security_group_ids", [d.lbGroupId])]),
    ]);
  }
  // No `unauthenticated`: Waypoint 0.11.4 never acts on it (its releaser makes every service public,
  // builtin/google/cloudrun/releaser.go), and who may call the app is state's to say (cloudRunRelease).
  return block("use", ["google-cloud-run"], [
    attr("project", d.project),
    attr("location", d.region),
    attr("port", input.port),
    comment(
      "The stack's account for its apps, holding no role on the project: `pilot up` lets it\nread this app's variables in Secret Manager (else Cloud Run runs the app as the\nproject's default compute account, often a project Editor).",
    ),
    attr("service_account_name", d.serviceAccount),
    comment("The stack's Serverless VPC Access connector: the way to the private database."),
    block("vpc_access", [], [attr("connector", d.connector), attr("egress", "private-ranges-only")]),
  ]);
}

/**
 * Waypoint's `null` releaser (a builtin of 0.11.4: builtin/null) instead of the
 * google-cloud-run one, which grants allUsers the invoker role on every release
 * and which the server's account (roles/run.developer) may no longer run. After
 * the job, `pilot up` releases the app itself, with the user's credentials
 * (src/providers/gcp/cloud-run-release.ts).
 */
function cloudRunRelease(input: AppHclInput): HclItem[] {
  const key = `${input.project}/${input.app}`;
  const who = input.public
    ? "This app is public, as\n`pilot new app --public` asked: anyone may call it."
    : "This app is private: only callers\ngranted roles/run.invoker may (`pilot new app --public --force` opens it).";
  return [
    comment(`Released by Pilot, not Waypoint: after the deploy, \`pilot up ${key}\` sends all\ntraffic to the new revision and sets who may call it. ${who}`),
    block("release", [], [block("use", ["null"], [])]),
  ];
}

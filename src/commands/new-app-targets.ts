/**
 * The deploy half of `pilot new app`: each target's values, read from the
 * stack's state (never placeholders), and the image repository the target
 * needs, created or adopted. Reading is separate from creating so every check
 * runs before anything is made.
 */
import { join } from "node:path";
import type { CloudRunDeploy, DeploySpec, DockerDeploy, EcsDeploy } from "../apps/hcl.js";
import { appKey, type AppTarget } from "../apps/names.js";
import { CONTAINER_CA_DIR, CONTAINER_CA_FILE, DEFAULT_NAMES, caDir, type StepContext } from "../bootstrap/steps/context.js";
import { PilotError } from "../errors.js";
import type { Provider } from "../providers/types.js";
import type { AppRepositoryState, StackState } from "../state/schema.js";
import { hostPorts, placement } from "./bootstrap-stack.js";
import type { CommandContext } from "./context.js";

/** A target's values, plus what must exist before the file is written. */
export interface TargetPlan {
  deploy: DeploySpec;
  serverAddress?: string;
  /** The repository to create or adopt, if the target pushes images. */
  repository?: AppRepositoryState;
}

function missing(ctx: CommandContext, what: string): PilotError {
  return new PilotError(`Stack "${ctx.stack}" has no ${what} yet.`, { hint: `Run \`pilot up-server --name ${ctx.stack}\` first.` });
}

function outOf(state: StackState, key: string): Record<string, any> | undefined {
  const r = state.resources[key];
  return r?.status === "created" ? r.out : undefined;
}

/** Where the Waypoint server answers, for the file's header. */
export function serverAddressOf(provider: Provider<any>, state: StackState): string | undefined {
  const access = provider.serverAccess(state);
  return access ? `${access.publicAddress}:${hostPorts(access, state.settings).grpc}` : undefined;
}

/** The docker platform's values: the server's network and the CA folder on the host that runs the server. */
export function dockerPlan(ctx: CommandContext, provider: Provider<any>, state: StackState): TargetPlan {
  const access = provider.serverAccess(state);
  if (!access) throw missing(ctx, "server");
  const where = placement(ctx, access, state.settings);
  const names = { ...DEFAULT_NAMES, ...(where.target === "local" ? where.names : {}) };
  // As bootstrap lays it out (src/bootstrap/index.ts stepContext): /etc/pilot on a VM, the stack folder's server/ locally.
  const remoteDir = where.target === "local" ? join(ctx.stackDir, "server") : "/etc/pilot";
  const caHostDir = caDir({ remoteDir } as StepContext);
  if (caHostDir.includes(":")) {
    throw new PilotError(`The stack's folder ${caHostDir} contains ":", which Docker's bind syntax cannot carry.`, { hint: "Set PILOT_HOME to a path without \":\"." });
  }
  const deploy: DockerDeploy = { target: "docker", network: names.network, caHostDir, caContainerDir: CONTAINER_CA_DIR, caContainerFile: CONTAINER_CA_FILE };
  return { deploy, serverAddress: serverAddressOf(provider, state) };
}

/**
 * ECS: the stack's region, its two public subnets (for the load balancer and the tasks), the
 * apps' and load balancers' security groups, and the app's own ECR repository.
 */
export function ecsPlan(ctx: CommandContext, provider: Provider<any>, state: StackState, project: string, app: string, repository: (name: string) => string): TargetPlan {
  const region = state.settings.region;
  const subnets = ["subnet-public", "subnet-public-b"].map((k) => outOf(state, k)?.subnetId as string | undefined);
  const appsGroup = outOf(state, "sg-apps")?.groupId as string | undefined;
  const lbGroup = outOf(state, "sg-lb")?.groupId as string | undefined;
  if (typeof region !== "string") throw missing(ctx, "region");
  // A stack made before ECS apps had their own subnets and groups: up-server adds them.
  if (subnets.some((s) => !s)) throw missing(ctx, "public subnets in two zones");
  if (!appsGroup) throw missing(ctx, "apps security group");
  if (!lbGroup) throw missing(ctx, "load balancers' security group");
  const name = repository(appKey(project, app));
  const deploy: EcsDeploy = { target: "ecs", region, repository: name, subnets: subnets as string[], appsGroupId: appsGroup, lbGroupId: lbGroup };
  return { deploy, serverAddress: serverAddressOf(provider, state), repository: { kind: "ecr", id: name, image: "", region } };
}

/** Cloud Run: the stack's project, region, VPC connector and apps' service account, and its Artifact Registry repository. */
export function cloudRunPlan(
  ctx: CommandContext,
  provider: Provider<any>,
  state: StackState,
  app: string,
  naming: { repositoryId: string; image: (project: string, region: string, app: string) => string },
): TargetPlan {
  const { project, region } = state.settings;
  if (typeof project !== "string" || typeof region !== "string") throw missing(ctx, "project and region");
  const connector = state.resources.connector;
  if (connector?.status !== "created" || !connector.id) throw missing(ctx, "Serverless VPC Access connector");
  // A stack made before its apps had their own identity: up-server adds it.
  const account = state.resources["sa-apps"];
  if (account?.status !== "created" || !account.id) throw missing(ctx, "service account for its Cloud Run apps");
  const image = naming.image(project, region, app);
  const deploy: CloudRunDeploy = { target: "cloud-run", project, region, image, connector: connector.id, serviceAccount: account.id };
  const repository: AppRepositoryState = { kind: "artifact-registry", id: `projects/${project}/locations/${region}/repositories/${naming.repositoryId}`, image, region };
  return { deploy, serverAddress: serverAddressOf(provider, state), repository };
}

/** Which plan a target takes; the registry modules are imported only for the target that needs them. */
export async function planTarget(ctx: CommandContext, provider: Provider<any>, state: StackState, target: AppTarget, project: string, app: string): Promise<TargetPlan> {
  if (target === "docker") return dockerPlan(ctx, provider, state);
  if (target === "ecs") {
    const { ecrRepositoryName } = await import("../apps/ecr.js");
    return ecsPlan(ctx, provider, state, project, app, () => ecrRepositoryName(ctx.stack, project, app));
  }
  const { artifactImage, artifactRepositoryId } = await import("../providers/gcp/artifact-registry.js");
  const repositoryId = artifactRepositoryId(ctx.stack);
  return cloudRunPlan(ctx, provider, state, app, { repositoryId, image: (p, r, a) => artifactImage(p, r, repositoryId, a) });
}

/**
 * Creates (or adopts) the plan's repository; returns it as state records it,
 * with the image URI the registry reports. Tags: the stack's, keyed by the app.
 */
export async function ensureRepository(ctx: CommandContext, state: StackState, plan: TargetPlan, project: string, app: string): Promise<{ repository?: AppRepositoryState; created?: boolean }> {
  const repo = plan.repository;
  if (!repo) return {};
  const progress = (message: string) => ctx.ui.emit({ type: "progress", key: `app:${appKey(project, app)}`, message });
  if (repo.kind === "ecr") {
    const { createEcrClient, ensureAppRepository, ecrTagKey } = await import("../apps/ecr.js");
    const ecr = createEcrClient(repo.region);
    try {
      progress(`creating ECR repository ${repo.id}`);
      const r = await ensureAppRepository(ecr, { region: repo.region, name: repo.id, tags: { stack: ctx.stack, stackId: state.lineage, key: ecrTagKey(project, app) } });
      return { repository: { ...repo, image: r.uri }, created: r.created };
    } finally {
      ecr.destroy();
    }
  }
  const { createArtifactRegistryClient, ensureArtifactRepository } = await import("../providers/gcp/artifact-registry.js");
  const [, gcpProject, , region, , repositoryId] = repo.id.split("/");
  progress(`creating Artifact Registry repository ${repositoryId}`);
  const r = await ensureArtifactRepository(
    { client: createArtifactRegistryClient(ctx.env), project: gcpProject!, region: region!, progress },
    { repositoryId: repositoryId!, tags: { stack: ctx.stack, stackId: state.lineage, key: "app-images" } },
  );
  return { repository: repo, created: r.created };
}

/**
 * An ECS app's task execution role, made (or adopted) here so it may read the app's
 * SSM parameters; the aws-ecs plugin then uses it as it is. Every ECS app gets one,
 * database or not: `pilot env set` may give any of them parameters later, and a role
 * the plugin made would read none.
 */
export async function ensureExecutionRole(
  ctx: CommandContext,
  state: StackState,
  plan: TargetPlan,
  project: string,
  app: string,
): Promise<{ name: string; created: boolean } | undefined> {
  if (plan.deploy.target !== "ecs") return undefined;
  const { createIamClient, ensureAppExecutionRole } = await import("../providers/aws/app-execution-role.js");
  const region = plan.deploy.region;
  const iam = createIamClient(region);
  try {
    ctx.ui.emit({ type: "progress", key: `app:${appKey(project, app)}`, message: "creating its ECS task execution role" });
    const role = await ensureAppExecutionRole(iam, { stack: ctx.stack, stackId: state.lineage, region, project, app });
    return { name: role.name, created: role.created };
  } finally {
    iam.destroy();
  }
}

/**
 * `pilot teardown`'s hook for the image repositories `pilot new app` made:
 * they live outside the stack's resource graph (an app adds one at any time),
 * so teardown removes them first, from the apps recorded in state. Each SDK is
 * imported only when a repository of its kind is there.
 */
import { PilotError } from "../errors.js";
import type { AppRepositoryState, StackState } from "../state/schema.js";

/** The distinct repositories of a stack's apps (Cloud Run apps share the stack's one). */
export function appRepositories(state: StackState): AppRepositoryState[] {
  const seen = new Map<string, AppRepositoryState>();
  for (const app of Object.values(state.apps ?? {})) {
    if (app.repository) seen.set(`${app.repository.kind}:${app.repository.region}:${app.repository.id}`, app.repository);
  }
  return [...seen.values()];
}

export interface DeleteRepositoriesOptions {
  env: NodeJS.ProcessEnv;
  progress?: (message: string) => void;
  /** Multiplies poll intervals (0 in tests). */
  pollScale?: number;
}

/** Deletes one app repository with its images (ECR: the app's own; Artifact Registry: the stack's shared one). */
export async function deleteRepository(repo: AppRepositoryState, opts: DeleteRepositoriesOptions): Promise<void> {
  opts.progress?.(`deleting ${repo.kind} repository ${repo.id}`);
  if (repo.kind === "ecr") {
    const { createEcrClient, deleteAppRepository } = await import("./ecr.js");
    const ecr = createEcrClient(repo.region);
    try {
      await deleteAppRepository(ecr, { region: repo.region, name: repo.id });
    } finally {
      ecr.destroy();
    }
    return;
  }
  const { createArtifactRegistryClient, deleteArtifactRepository } = await import("../providers/gcp/artifact-registry.js");
  const project = repo.id.split("/")[1]!;
  await deleteArtifactRepository(
    { client: createArtifactRegistryClient(opts.env), project, region: repo.region, pollScale: opts.pollScale, progress: opts.progress },
    repo.id,
  );
}

/** Deletes every app repository of the stack (with its images); returns what was deleted. Throws after trying all. */
export async function deleteAppRepositories(state: StackState, opts: DeleteRepositoriesOptions): Promise<string[]> {
  const deleted: string[] = [];
  const failed: string[] = [];
  for (const repo of appRepositories(state)) {
    try {
      await deleteRepository(repo, opts);
      deleted.push(repo.id);
    } catch (err) {
      failed.push((err as Error).message);
    }
  }
  if (failed.length > 0) {
    throw new PilotError(`${failed.length} app image repositor${failed.length === 1 ? "y" : "ies"} could not be deleted: ${failed.join("; ")}.`, {
      hint: "Nothing else was deleted yet; run `pilot teardown` again.",
    });
  }
  return deleted;
}

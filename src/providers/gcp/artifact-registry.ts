/**
 * The stack's Artifact Registry repository (cloud-run target): one Docker
 * repository per stack, `pilot-<stack>`, holding every app's images as
 * REGION-docker.pkg.dev/PROJECT/pilot-<stack>/APP. Created by the first
 * `pilot new app` that needs it, labelled like the stack's other GCP
 * resources, adopted when one of that name carries this stack's labels, and
 * deleted by `pilot teardown`.
 *
 * Loaded lazily (only on that path), through googleapis' per-API module and
 * the GCP provider's endpoint rules, so PILOT_GCP_ENDPOINT and
 * CLOUDSDK_API_ENDPOINT_OVERRIDES_ARTIFACTREGISTRY point it at a test server.
 */
import { GoogleAuth } from "google-auth-library";
import { artifactregistry_v1 } from "googleapis/build/src/apis/artifactregistry/v1.js";
import { PilotError } from "../../errors.js";
import type { StackTags } from "../../engine/types.js";
import { CLOUD_PLATFORM_SCOPE, RETRY } from "./clients.js";
import { allLoopback, gcpEndpoints } from "./endpoints.js";
import { isAlreadyExists, isNotFound } from "./errors.js";
import { artifactRegistryHost, hasStackLabels, stackLabels, waitFor, type LongRunningOperation } from "./shared.js";
import { attempt, createOrAdopt, describeAction, type PollEnv } from "../scaffold.js";

export const ARTIFACT_REPOSITORY_TYPE = "gcp.artifactregistry.repository";

export type ArtifactRegistry = artifactregistry_v1.Artifactregistry;

/** The same endpoint and credential rules as the provider's clients (src/providers/gcp/clients.ts). */
export function createArtifactRegistryClient(env: NodeJS.ProcessEnv): ArtifactRegistry {
  const endpoints = gcpEndpoints(env);
  const auth = allLoopback(endpoints) ? undefined : new GoogleAuth({ scopes: [CLOUD_PLATFORM_SCOPE] });
  const rootUrl = endpoints.artifactregistry;
  return new artifactregistry_v1.Artifactregistry({ ...(rootUrl ? { rootUrl } : {}), ...(auth ? { auth } : {}), retryConfig: RETRY });
}

/** "pilot-<stack>": stack names (1-20 characters, a letter first) make valid repository ids. */
export function artifactRepositoryId(stack: string): string {
  return `pilot-${stack}`;
}

/** The image an app is pushed as, without a tag. */
export function artifactImage(project: string, region: string, repositoryId: string, app: string): string {
  return `${artifactRegistryHost(region)}/${project}/${repositoryId}/${app}`;
}

export interface ArtifactRepository {
  /** projects/P/locations/R/repositories/ID */
  name: string;
  created: boolean;
}

/** What a repository create or delete is waited on with; tests set pollScale 0. */
export interface ArtifactRegistryEnv extends PollEnv {
  client: ArtifactRegistry;
  project: string;
  region: string;
  progress?: (message: string) => void;
}

async function waitOperation(env: ArtifactRegistryEnv, op: LongRunningOperation, what: string): Promise<void> {
  let current = op;
  const done = await waitFor(env, { what, intervalMs: 2_000, timeoutMs: 5 * 60_000, progress: env.progress }, async () => {
    if (!current.done) current = (await env.client.projects.locations.operations.get({ name: current.name! })).data;
    return { done: Boolean(current.done), status: current.done ? "done" : "running", value: current };
  });
  if (done?.error) throw new PilotError(`${what} failed: ${done.error.message ?? `code ${done.error.code}`}`);
}

/** Creates the stack's Docker repository, or adopts the one of that name that carries this stack's labels. */
export async function ensureArtifactRepository(env: ArtifactRegistryEnv, opts: { repositoryId: string; tags: StackTags }): Promise<ArtifactRepository> {
  const parent = `projects/${env.project}/locations/${env.region}`;
  const name = `${parent}/repositories/${opts.repositoryId}`;
  const action = describeAction("create", ARTIFACT_REPOSITORY_TYPE, opts.repositoryId, env.region);
  const get = async () => {
    try {
      return (await env.client.projects.locations.repositories.get({ name })).data;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  };
  const result = await createOrAdopt({
    action,
    name: `Artifact Registry repository ${opts.repositoryId}`,
    create: async () =>
      (
        await env.client.projects.locations.repositories.create({
          parent,
          repositoryId: opts.repositoryId,
          requestBody: { format: "DOCKER", labels: stackLabels(opts.tags), description: `Images of the apps of Pilot stack ${opts.tags.stack}` },
        })
      ).data,
    isAlreadyExists,
    existing: get,
    isOurs: (r) => hasStackLabels(r.labels, opts.tags),
    hint: "Delete that repository, or use another --name for this stack.",
  });
  if (result.created) await attempt(action, () => waitOperation(env, result.created, `create Artifact Registry repository ${opts.repositoryId}`));
  return { name, created: Boolean(result.created) };
}

/** Deletes the stack's repository with every image in it; one already gone counts as deleted. */
export async function deleteArtifactRepository(env: ArtifactRegistryEnv, name: string): Promise<void> {
  const id = name.split("/").pop()!;
  await attempt(describeAction("delete", ARTIFACT_REPOSITORY_TYPE, id, env.region), async () => {
    let op: LongRunningOperation;
    try {
      op = (await env.client.projects.locations.repositories.delete({ name })).data;
    } catch (err) {
      if (isNotFound(err)) return;
      throw err;
    }
    await waitOperation(env, op, `delete Artifact Registry repository ${id}`);
  });
}

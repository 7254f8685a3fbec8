/**
 * The stack's Artifact Registry repository (src/apps/artifact-registry.ts)
 * against the GCP fake, which checks every request against Google's
 * artifactregistry v1 discovery document: create (long-running operation),
 * adopt by labels, refusal of a stranger's repository, delete, and the
 * teardown hook that deletes the repositories recorded for a stack's apps.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  artifactImage,
  artifactRepositoryId,
  createArtifactRegistryClient,
  deleteArtifactRepository,
  ensureArtifactRepository,
  type ArtifactRegistryEnv,
} from "../../../src/providers/gcp/artifact-registry.js";
import { deleteAppRepositories } from "../../../src/apps/repositories.js";
import { startFakeGcp, type FakeGcp } from "../../fakes/gcp/index.js";
import { LINEAGE, stackState } from "../../support/app-stacks.js";

const REGION = "europe-west1";
const tags = { stack: "default", stackId: LINEAGE, key: "app-images" };
let fake: FakeGcp;
let env: ArtifactRegistryEnv;

beforeAll(async () => {
  fake = await startFakeGcp({ latencyMs: 5 });
});
afterAll(() => fake.close());
beforeEach(() => {
  fake.control.reset();
  fake.control.enableApi("artifactregistry.googleapis.com");
  fake.control.clearRequests();
  env = { client: createArtifactRegistryClient({ PILOT_GCP_ENDPOINT: fake.url }), project: fake.project, region: REGION, pollScale: 0 };
});

const repos = () => fake.control.inventory().filter((i) => i.api === "artifactregistry");

describe("the stack's Artifact Registry repository", () => {
  it("is created as a labelled Docker repository, waiting for its operation, and its image path is Cloud Run's", async () => {
    const r = await ensureArtifactRepository(env, { repositoryId: artifactRepositoryId("default"), tags });
    expect(r).toEqual({ name: `projects/${fake.project}/locations/${REGION}/repositories/pilot-default`, created: true });
    expect(repos()).toMatchObject([{ name: "pilot-default", location: REGION, labels: { "pilot-stack": "default", "pilot-stack-id": LINEAGE, "pilot-key": "app-images" } }]);
    const methods = fake.control.requests({ api: "artifactregistry" }).map((q) => `${q.methodId} ${q.status}`);
    expect(methods[0]).toBe("artifactregistry.projects.locations.repositories.create 200");
    expect(methods).toContain("artifactregistry.projects.locations.operations.get 200");
    expect(artifactImage(fake.project, REGION, "pilot-default", "web")).toBe(`${REGION}-docker.pkg.dev/${fake.project}/pilot-default/web`);
  });

  it("is adopted, not duplicated, when this stack's repository already exists", async () => {
    await ensureArtifactRepository(env, { repositoryId: "pilot-default", tags });
    const again = await ensureArtifactRepository(env, { repositoryId: "pilot-default", tags });
    expect(again.created).toBe(false);
    expect(repos()).toHaveLength(1);
  });

  it("refuses a repository of that name whose labels name another stack lineage", async () => {
    await ensureArtifactRepository(env, { repositoryId: "pilot-default", tags: { ...tags, stackId: "11111111-2222-4333-8444-555555555555" } });
    await expect(ensureArtifactRepository(env, { repositoryId: "pilot-default", tags })).rejects.toThrow(/already exists and does not belong to this stack/);
  });

  it("is deleted, and deleting it again is not an error", async () => {
    const r = await ensureArtifactRepository(env, { repositoryId: "pilot-default", tags });
    await deleteArtifactRepository(env, r.name);
    expect(repos()).toEqual([]);
    await deleteArtifactRepository(env, r.name);
  });

  it("teardown's hook deletes the one repository the stack's Cloud Run apps share", async () => {
    const r = await ensureArtifactRepository(env, { repositoryId: "pilot-default", tags });
    const repository = { kind: "artifact-registry" as const, id: r.name, image: "x", region: REGION };
    const app = { target: "cloud-run" as const, builder: "docker" as const, port: 8080, withDb: true, dir: "/tmp", createdAt: "now", repository };
    const state = stackState("gcp", { apps: { "shop/web": { ...app, project: "shop", app: "web" }, "shop/api": { ...app, project: "shop", app: "api" } } });
    expect(await deleteAppRepositories(state, { env: { PILOT_GCP_ENDPOINT: fake.url }, pollScale: 0 })).toEqual([r.name]);
    expect(repos()).toEqual([]);
  });

  it("the fake holds Artifact Registry to its discovery schema: an unknown field or a bad enum is a 400", async () => {
    const parent = `projects/${fake.project}/locations/${REGION}`;
    await expect(
      env.client.projects.locations.repositories.create({ parent, repositoryId: "x1", requestBody: { format: "DOCKER", colour: "red" } as never }),
    ).rejects.toMatchObject({ status: 400 });
    await expect(env.client.projects.locations.repositories.create({ parent, repositoryId: "x2", requestBody: { format: "OCI-ish" } })).rejects.toMatchObject({ status: 400 });
    expect(repos()).toEqual([]);
  });

  it("a disabled Artifact Registry API answers 403 SERVICE_DISABLED, as in a new project", async () => {
    fake.control.reset();
    await expect(ensureArtifactRepository(env, { repositoryId: "pilot-default", tags })).rejects.toThrow(/Artifact Registry API has not been used/);
  });
});

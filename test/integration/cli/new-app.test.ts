/**
 * `pilot new app` and `pilot server --db --url` as a user runs them (the
 * built dist/cli.js, no terminal): flags missing, overwrite refused or forced,
 * the app recorded in state; the ecs target's ECR repository in moto (created,
 * adopted, a stranger's refused, removed by `pilot teardown`); the cloud-run
 * target's Artifact Registry repository in the GCP fake.
 */
import { CreateRepositoryCommand, DescribeRepositoriesCommand, ECRClient, GetRepositoryPolicyCommand, ListTagsForResourceCommand } from "@aws-sdk/client-ecr";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { deleteAppRepository } from "../../../src/apps/ecr.js";
import { StateStore } from "../../../src/state/store.js";
import { startFakeGcp, type FakeGcp } from "../../fakes/gcp/index.js";
import { LINEAGE, stackState, writeStack } from "../../support/app-stacks.js";
import { useCliHarness } from "./helpers.js";

const h = useCliHarness("pilot-new-app-");
// The local target checks the engine's networks; an engine that is not there keeps these tests off the real one.
const NO_DOCKER = { DOCKER_HOST: "unix:///nonexistent/docker.sock" };

let dir: string;
beforeEach(() => {
  dir = join(h.home, "src", "web");
  mkdirSync(dir, { recursive: true });
});
const hcl = () => join(dir, "waypoint.hcl");
const newApp = (stack: string, more: string[], env: NodeJS.ProcessEnv = {}) =>
  h.cli.run(["new", "app", "--name", stack, "--dir", dir, ...more], { ...NO_DOCKER, ...env });

describe("pilot new app without a terminal", () => {
  it("names exactly the missing flags in one sentence, exits 2 and writes nothing", async () => {
    const file = writeStack(h.home, "default", stackState("local"));
    const before = readFileSync(file, "utf8");
    const r = await newApp("default", ["--app", "web"]);
    expect(r.code).toBe(2);
    expect(r.stderr.split("\n")[0]).toBe("Error: Missing --project and --port: there is no terminal to ask on, so nothing was written.");
    expect(r.stdout).toBe("");
    expect(existsSync(hcl())).toBe(false);
    expect(readFileSync(file, "utf8")).toBe(before);

    const all = await newApp("default", []);
    expect(all.stderr.split("\n")[0]).toBe("Error: Missing --project, --app and --port: there is no terminal to ask on, so nothing was written.");
  });

  it("local: writes the docker target from the stack's state and records the app (state version 3, schema-valid)", async () => {
    writeStack(h.home, "dev", stackState("local"));
    const r = await newApp("dev", ["--project", "shop", "--app", "web", "--port", "8080", "--with-db", "--json"]);
    expect(r.code).toBe(0);
    expect(r.json).toMatchObject({ ok: true, app: "shop/web", file: hcl(), target: "docker", builder: "docker", port: 8080, withDb: true, repository: null });
    const text = readFileSync(hcl(), "utf8");
    expect(text).toContain('networks = ["pilot-dev-net"]');
    expect(text).toContain(`binds = ["${join(h.home, "stacks", "dev", "server", "ca")}:/pilot/ca:ro"]`);
    expect(text).toContain('SSL_CERT_FILE = "/pilot/ca/ca.pem"');
    expect(text).not.toMatch(/pw\/with|wp-token/);
    const state = new StateStore(h.home, "dev").load()!;
    expect(state.version).toBe(3);
    expect(state.apps!["shop/web"]).toMatchObject({ project: "shop", app: "web", target: "docker", builder: "docker", port: 8080, withDb: true, dir });
    // Only an ECS app's file declares a secrets variable.
    expect(state.apps!["shop/web"]).not.toHaveProperty("secretsVariable");
  });

  it("refuses to overwrite waypoint.hcl without --force, leaving it intact; --force replaces it", async () => {
    writeStack(h.home, "default", stackState("local"));
    writeFileSync(hcl(), "# my own\n");
    const flags = ["--project", "shop", "--app", "web", "--port", "3000"];
    const r = await newApp("default", flags);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`Error: ${hcl()} already exists; Pilot left it as it was.`);
    expect(readFileSync(hcl(), "utf8")).toBe("# my own\n");
    expect(new StateStore(h.home, "default").load()!.apps ?? {}).toEqual({});

    const forced = await newApp("default", [...flags, "--force", "--builder", "pack"]);
    expect(forced.code).toBe(0);
    expect(readFileSync(hcl(), "utf8")).toContain('use "pack" {}');
  });

  it("refuses a target the stack's provider cannot run, and bad names, before touching anything", async () => {
    writeStack(h.home, "default", stackState("local"));
    const r = await newApp("default", ["--project", "shop", "--app", "web", "--port", "3000", "--target", "ecs"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--target ecs does not run on a local stack.");
    const bad = await newApp("default", ["--project", "Shop", "--app", "web", "--port", "3000"]);
    expect(bad.code).toBe(2);
    expect(existsSync(hcl())).toBe(false);
  });
});

describe("pilot new app --target ecs against moto", () => {
  const ecr = (region = "eu-west-1") => new ECRClient({ region });
  const flags = ["--project", "shop", "--app", "web", "--port", "8080"];

  it("creates the app's ECR repository, tagged and scanned on push, and writes its name and the stack's subnets", async () => {
    writeStack(h.home, "prod", stackState("aws"));
    const r = await newApp("prod", [...flags, "--json"]);
    expect(r.code).toBe(0);
    const repo = (await ecr().send(new DescribeRepositoriesCommand({ repositoryNames: ["pilot-prod/shop/web"] }))).repositories![0]!;
    expect(repo.imageScanningConfiguration?.scanOnPush).toBe(true);
    const tags = (await ecr().send(new ListTagsForResourceCommand({ resourceArn: repo.repositoryArn }))).tags;
    expect(tags).toEqual(expect.arrayContaining([{ Key: "pilot:stack", Value: "prod" }, { Key: "pilot:stack-id", Value: LINEAGE }, { Key: "pilot:key", Value: "app/shop/web" }]));
    expect(r.json.repository).toEqual({ kind: "ecr", id: "pilot-prod/shop/web", image: repo.repositoryUri, region: "eu-west-1" });
    const text = readFileSync(hcl(), "utf8");
    expect(text).toContain('repository = "pilot-prod/shop/web"');
    expect(text).toContain('subnets          = ["subnet-0aaa", "subnet-0bbb"]');
    expect(text).toContain('security_group_ids = ["sg-0ccc", "sg-0ddd"]');
    expect(new StateStore(h.home, "prod").load()!.apps!["shop/web"]!.repository).toEqual(r.json.repository);

    // Run again (--force): the repository carries this stack's tags, so it is adopted, not duplicated.
    const again = await newApp("prod", [...flags, "--force"]);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain("existing repository of this stack adopted");
    await deleteAppRepository(ecr(), { region: "eu-west-1", name: "pilot-prod/shop/web" });
    // Already gone counts as deleted.
    await deleteAppRepository(ecr(), { region: "eu-west-1", name: "pilot-prod/shop/web" });
  });

  it("refuses a repository of the same name that is not this stack's, and writes nothing", async () => {
    writeStack(h.home, "other", stackState("aws"));
    await ecr().send(new CreateRepositoryCommand({ repositoryName: "pilot-other/shop/web", tags: [{ Key: "pilot:stack", Value: "someone-else" }] }));
    const r = await newApp("other", flags);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('ECR repository pilot-other/shop/web already exists and does not belong to this stack');
    expect(existsSync(hcl())).toBe(false);
    expect(new StateStore(h.home, "other").load()!.apps ?? {}).toEqual({});
    await deleteAppRepository(ecr(), { region: "eu-west-1", name: "pilot-other/shop/web" });
  });

  it("pilot teardown removes the apps' ECR repositories with the stack", async () => {
    const up = await h.cli.up("td");
    expect(up.code).toBe(0);
    expect((await newApp("td", [...flags, "--target", "ecs"])).code).toBe(0);
    expect((await h.cli.run(["new", "app", "--name", "td", "--dir", join(h.home, "src"), "--project", "shop", "--app", "api", "--port", "9000"])).code).toBe(0);
    // UP_FLAGS put the stack in us-east-1, and its apps' repositories with it.
    const names = async () => ((await ecr("us-east-1").send(new DescribeRepositoriesCommand({}))).repositories ?? []).map((x) => x.repositoryName).filter((n) => n!.startsWith("pilot-td/"));
    expect((await names()).sort()).toEqual(["pilot-td/shop/api", "pilot-td/shop/web"]);
    const td = await h.cli.teardown("td");
    expect(td.code).toBe(0);
    expect(await names()).toEqual([]);
    // moto answers a policy read of a deleted repository with RepositoryNotFoundException: proof it is gone, not emptied.
    await expect(ecr("us-east-1").send(new GetRepositoryPolicyCommand({ repositoryName: "pilot-td/shop/web" }))).rejects.toMatchObject({ name: "RepositoryNotFoundException" });
  });
});

describe("pilot new app --target cloud-run against the GCP fake", () => {
  let fake: FakeGcp;
  beforeAll(async () => {
    fake = await startFakeGcp({ project: "my-project", latencyMs: 5 });
  });
  afterAll(() => fake.close());

  it("creates the stack's Artifact Registry repository once, for every Cloud Run app, and writes its image path and the VPC connector", async () => {
    fake.control.reset();
    fake.control.enableApi("artifactregistry.googleapis.com");
    writeStack(h.home, "default", stackState("gcp"));
    const env = { PILOT_GCP_ENDPOINT: fake.url };
    const r = await newApp("default", ["--project", "shop", "--app", "web", "--port", "8080", "--with-db", "--json"], env);
    expect(r.code).toBe(0);
    expect(r.json.repository).toEqual({
      kind: "artifact-registry",
      id: "projects/my-project/locations/europe-west1/repositories/pilot-default",
      image: "europe-west1-docker.pkg.dev/my-project/pilot-default/web",
      region: "europe-west1",
    });
    const text = readFileSync(hcl(), "utf8");
    expect(text).toContain('image = "europe-west1-docker.pkg.dev/my-project/pilot-default/web"');
    expect(text).toContain('connector = "projects/my-project/locations/europe-west1/connectors/pilot-default-0d9e8f7a"');
    // Runs as the stack's apps account; released by Pilot (Waypoint's null releaser); not public unless asked, as state records.
    expect(text).toContain('      service_account_name = "pilot-default-0d9e8f7a-run@my-project.iam.gserviceaccount.com"\n');
    expect(text).toContain('  release {\n    use "null" {}\n  }\n');
    expect(text).not.toContain("unauthenticated");
    expect(r.json.public).toBe(false);
    expect(new StateStore(h.home, "default").load()!.apps!["shop/web"]!.public).toBe(false);
    const api = await h.cli.run(["new", "app", "--dir", join(h.home, "src"), "--project", "shop", "--app", "api", "--port", "8080"], env);
    expect(api.code).toBe(0);
    expect(fake.control.inventory().filter((i) => i.api === "artifactregistry").map((i) => i.name)).toEqual(["pilot-default"]);
  });

  it("--public: state records it (`pilot up` acts on it), the file says so in a comment only", async () => {
    fake.control.reset();
    fake.control.enableApi("artifactregistry.googleapis.com");
    writeStack(h.home, "default", stackState("gcp"));
    const r = await newApp("default", ["--project", "shop", "--app", "web", "--port", "8080", "--public", "--json"], { PILOT_GCP_ENDPOINT: fake.url });
    expect(r.code, r.stderr).toBe(0);
    expect(r.json.public).toBe(true);
    const text = readFileSync(hcl(), "utf8");
    expect(text).toContain("This app is public, as\n  # `pilot new app --public` asked: anyone may call it.\n");
    expect(text).not.toContain("unauthenticated");
    expect(new StateStore(h.home, "default").load()!.apps!["shop/web"]!.public).toBe(true);
  });

  it("refuses a stack made before its Cloud Run apps had their own account, and says to run up-server", async () => {
    fake.control.reset();
    fake.control.enableApi("artifactregistry.googleapis.com");
    const { "sa-apps": _apps, ...resources } = stackState("gcp").resources;
    writeStack(h.home, "default", stackState("gcp", { resources }));
    const r = await newApp("default", ["--project", "shop", "--app", "web", "--port", "8080"], { PILOT_GCP_ENDPOINT: fake.url });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('Stack "default" has no service account for its Cloud Run apps yet.');
    expect(r.stderr).toContain("pilot up-server --name default");
    expect(existsSync(hcl())).toBe(false);
  });
});

describe("pilot new app --public where the target cannot be public", () => {
  it("docker and ecs: a usage error (exit 2) naming the target, nothing created or written", async () => {
    for (const [stack, provider, target] of [["dev", "local", "docker"], ["aws1", "aws", "ecs"], ["gcp1", "gcp", "docker"]] as const) {
      const file = writeStack(h.home, stack, stackState(provider));
      const before = readFileSync(file, "utf8");
      const r = await newApp(stack, ["--project", "shop", "--app", "web", "--port", "8080", "--target", target, "--public"]);
      expect(r.code, `${target} on ${provider}: ${r.stderr}`).toBe(2);
      expect(r.stderr.split("\n")[0]).toBe(
        `Error: --public is not supported for the ${target} target: only cloud-run apps are made public one by one; nothing was written.`,
      );
      // Where the reach is decided instead: the stack, for ECS.
      if (target === "ecs") expect(r.stderr).toContain("pilot up-server --public-apps");
      expect(r.stdout).toBe("");
      expect(existsSync(hcl())).toBe(false);
      expect(readFileSync(file, "utf8")).toBe(before);
    }
    // The provider's default target counts too (no --target), and --no-public is fine anywhere.
    writeStack(h.home, "dev", stackState("local"));
    expect((await newApp("dev", ["--project", "shop", "--app", "web", "--port", "8080", "--public"])).code).toBe(2);
    const no = await newApp("dev", ["--project", "shop", "--app", "web", "--port", "8080", "--no-public", "--json"]);
    expect(no.code, no.stderr).toBe(0);
    expect(no.json.public).toBe(false);
  });
});

describe("pilot server --db --url", () => {
  it("prints a ready postgres:// URL with the password percent-encoded, and only that", async () => {
    writeStack(h.home, "default", stackState("aws"));
    const r = await h.cli.run(["server", "--db", "--url"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("postgres://pilot:pw%2Fwith%3Aodd%40chars@db.example.internal:5432/pilot\n");
    const json = await h.cli.run(["server", "--db", "--url", "--json"]);
    expect(json.json).toEqual({ ok: true, url: "postgres://pilot:pw%2Fwith%3Aodd%40chars@db.example.internal:5432/pilot" });
    const url = new URL(r.stdout.trim());
    expect(decodeURIComponent(url.password)).toBe("pw/with:odd@chars");
    const lone = await h.cli.run(["server", "--url"]);
    expect(lone.code).toBe(2);
    expect(lone.stderr).toContain("--url goes with --db.");
  });
});

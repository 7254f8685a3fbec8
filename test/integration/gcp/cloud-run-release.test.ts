/**
 * Pilot's own release of a Cloud Run app (src/providers/gcp/cloud-run-release.ts,
 * src/apps/cloud-run-up.ts), against the GCP fake, which checks every request
 * against Google's run v1 and secretmanager v1 discovery documents. What the
 * Waypoint job does to the service (deploy; in apps written before, release)
 * is played through the fake's own API exactly as Waypoint's plugin calls it
 * (test/support/waypoint-cloud-run.ts). `pilot up` itself needs a live server,
 * so its Cloud Run steps run here with a stand-in session answering
 * `waypoint config get`.
 */
import { iam_v1 } from "googleapis/build/src/apis/iam/v1.js";
import type { run_v1 } from "googleapis/build/src/apis/run/v1.js";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { cloudRunFailureHint, releaseAfterJob, secureAfterFailure } from "../../../src/apps/cloud-run-up.js";
import { deleteAppSecrets, deleteStackSecrets, writeAppSecrets } from "../../../src/providers/gcp/app-secrets.js";
import { createCloudRunEnv, releaseCloudRunApp, type CloudRunApp, type CloudRunEnv } from "../../../src/providers/gcp/cloud-run-release.js";
import type { AppState } from "../../../src/state/schema.js";
import { startFakeGcp, type FakeGcp } from "../../fakes/gcp/index.js";
import { LINEAGE, stackState } from "../../support/app-stacks.js";
import { runClient, waypointDeploy, waypointRelease } from "../../support/waypoint-cloud-run.js";

const REGION = "europe-west1";
const INVOKER = "roles/run.invoker";
let gcp: FakeGcp;
let P: string;
let run: run_v1.Run;
let env: CloudRunEnv;
let appsAccount: string;

beforeAll(async () => {
  gcp = await startFakeGcp({ latencyMs: 20 });
  P = gcp.project;
  run = runClient(gcp.url);
});
afterAll(() => gcp?.close());
beforeEach(async () => {
  gcp.control.reset();
  for (const s of ["run.googleapis.com", "secretmanager.googleapis.com"]) gcp.control.enableApi(s);
  env = createCloudRunEnv({ PILOT_GCP_ENDPOINT: gcp.url }, P, REGION, { pollScale: 0 });
  // The stack's apps account, as up-server makes it.
  const iam = new iam_v1.Iam({ rootUrl: `${gcp.url}/` });
  appsAccount = (await iam.projects.serviceAccounts.create({ name: `projects/${P}`, requestBody: { accountId: "pilot-default-0d9e8f7a-run" } })).data.email!;
  gcp.control.clearRequests();
});

const app = (over: Partial<CloudRunApp> = {}): CloudRunApp => ({ stack: "default", stackId: LINEAGE, appProject: "shop", app: "web", public: false, ...over });
const deploy = (image: string, over: { serviceAccount?: string | null; app?: string } = {}) =>
  waypointDeploy(run, { project: P, region: REGION, app: over.app ?? "web", image, port: 8080, ...(over.serviceAccount === null ? {} : { serviceAccount: over.serviceAccount ?? appsAccount }) });
const service = async (name = "web") => (await run.namespaces.services.get({ name: `namespaces/${P}/services/${name}` })).data;
const policy = async (name = "web") => (await run.projects.locations.services.getIamPolicy({ resource: `projects/${P}/locations/${REGION}/services/${name}` })).data;
const members = async (name = "web") => (await policy(name)).bindings?.flatMap((b) => b.members!.map((m) => `${m} ${b.role}`)).sort() ?? [];
const secretsOf = () => gcp.control.world.secrets;
const envOf = (s: run_v1.Schema$Service) => s.spec!.template!.spec!.containers![0]!.env ?? [];
const refs = (s: run_v1.Schema$Service) => Object.fromEntries(envOf(s).filter((e) => e.valueFrom).map((e) => [e.name, `${e.valueFrom!.secretKeyRef!.name}@${e.valueFrom!.secretKeyRef!.key}`]));
const value = (id: string, version: string) => Buffer.from(secretsOf().get(P, id)!.versions.find((v) => String(v.number) === version)!.data!, "base64").toString();

describe("who may call the app", () => {
  it("a private app ends with no public member, even after Waypoint's own release made it public; other members stay", async () => {
    const revision = await deploy("x/web:1");
    await waypointRelease(run, { project: P, region: REGION, app: "web" }, revision);
    // Someone granted a colleague the invoker role since.
    const p = await policy();
    await run.projects.locations.services.setIamPolicy({ resource: `projects/${P}/locations/${REGION}/services/web`, requestBody: { policy: { ...p, bindings: [{ role: INVOKER, members: ["allUsers", "user:ops@example.com"] }] } } });

    // Read-modify-write: the set names the etag it read, and someone else's write in between (409 ABORTED) makes Pilot read again.
    const sent: { policy?: { etag?: string } }[] = [];
    gcp.control.faults.add({ method: "run.projects.locations.services.setIamPolicy", times: Infinity, match: (q) => (sent.push(q.body as never), false) });
    gcp.control.faults.add({ method: "run.projects.locations.services.setIamPolicy", error: 409, message: "There were concurrent policy changes. Please retry the whole read-modify-write with exponential backoff." });
    gcp.control.clearRequests();
    const r = await releaseCloudRunApp(env, app(), {});
    expect(await members()).toEqual([`user:ops@example.com ${INVOKER}`]);
    expect(r.access).toEqual({ added: [], removed: [`allUsers (${INVOKER})`] });
    expect(r.public).toBe(false);
    expect(r.url).toBe(`https://web-${gcp.projectNumber}.${REGION}.run.app`);
    expect(gcp.control.requests({ methodId: "run.projects.locations.services.setIamPolicy" }).map((q) => q.status)).toEqual([409, 200]);
    expect(sent.map((b) => b.policy?.etag)).toEqual([expect.any(String), expect.any(String)]);

    // A second release changes nothing.
    const again = await releaseCloudRunApp(env, app(), {});
    expect(again.access).toEqual({ added: [], removed: [] });
  });

  it("a public app has allUsers as invoker once it serves; switched back to private, it loses it", async () => {
    await deploy("x/web:1");
    const r = await releaseCloudRunApp(env, app({ public: true }), {});
    expect(r.access.added).toEqual([`allUsers (${INVOKER})`]);
    expect(await members()).toEqual([`allUsers ${INVOKER}`]);
    await deploy("x/web:2");
    await releaseCloudRunApp(env, app({ public: false }), {});
    expect(await members()).toEqual([]);
  });

  it("after a failed job a private app loses any public member and nothing else changes; a public app and a missing service are left alone", async () => {
    const revision = await deploy("x/web:1");
    await waypointRelease(run, { project: P, region: REGION, app: "web" }, revision);
    const before = await service();
    const record: AppState = { target: "cloud-run", project: "shop", app: "web", builder: "docker", port: 8080, withDb: false, dir: "/x", createdAt: "now", public: false };
    const o = { state: stackState("gcp"), stack: "default", ref: { project: "shop", app: "web", key: "shop/web" }, addSecrets: () => {}, env: async () => env };
    expect(await secureAfterFailure({ ...o, record: { ...record, public: true } })).toEqual([]);
    expect(await members()).toEqual([`allUsers ${INVOKER}`]);
    expect(await secureAfterFailure({ ...o, record })).toEqual([`allUsers (${INVOKER})`]);
    expect(await members()).toEqual([]);
    expect((await service()).spec).toEqual(before.spec);
    expect(await secureAfterFailure({ ...o, ref: { project: "shop", app: "gone", key: "shop/gone" }, record })).toEqual([]);
  });
});

describe("traffic", () => {
  it("goes all to the revision just deployed (Waypoint's deploy pinned it to the one before), named, and the release waits until it serves", async () => {
    const first = await deploy("x/web:1");
    await releaseCloudRunApp(env, app(), {});
    expect((await service()).spec?.traffic).toEqual([{ revisionName: first, percent: 100 }]);
    const second = await deploy("x/web:2");
    expect((await service()).status?.traffic).toEqual([{ revisionName: first, percent: 100 }]);
    const r = await releaseCloudRunApp(env, app(), {});
    const s = await service();
    expect(s.spec?.traffic).toEqual([{ revisionName: second, percent: 100 }]);
    expect(s.status?.traffic).toEqual([{ revisionName: second, percent: 100 }]);
    // No variables: the release changed the traffic, not the template, so the deployed revision is the one serving.
    expect(r.revision).toBe(second);
    expect(gcp.control.world.run.services.get(`${P}/web`)!.revisions).toHaveLength(2);
    // Read before written, with the resourceVersion read: the replace came after a get.
    const calls = gcp.control.requests({ api: "run" }).map((q) => q.methodId);
    expect(calls.indexOf("run.namespaces.services.replaceService")).toBeGreaterThan(calls.indexOf("run.namespaces.services.get"));
  });

  it("with variables, the release's own revision (named by Pilot) gets the traffic once it started", async () => {
    await deploy("x/web:1");
    const r = await releaseCloudRunApp(env, app(), { API_KEY: "k-123456" });
    expect(r.revision).toMatch(/^web-pilot-[a-z0-9]+$/);
    const s = await service();
    expect(s.status?.latestCreatedRevisionName).toBe(r.revision);
    expect(s.status?.traffic).toEqual([{ revisionName: r.revision, percent: 100 }]);
  });

  it("a revision that cannot start fails the release with Cloud Run's reason, and the traffic stays", async () => {
    const first = await deploy("x/web:1");
    await releaseCloudRunApp(env, app(), {});
    await deploy("x/web:2");
    gcp.control.faults.add({ method: "run.namespaces.services.replaceService", failOperation: { message: "The user-provided container failed to start and listen on the port defined by PORT=8080." } });
    await expect(releaseCloudRunApp(env, app(), { API_KEY: "k-123456" })).rejects.toThrow(/Cloud Run could not start web's revision web-pilot-\w+: .*failed to start and listen/);
    // Still on the revision that served before, not on the deploy's (which lacks the variables).
    expect((await service()).status?.traffic).toEqual([{ revisionName: first, percent: 100 }]);
  });

  it("says so when there is no service to release", async () => {
    await expect(releaseCloudRunApp(env, app(), {})).rejects.toThrow(/There is no Cloud Run service web in europe-west1 to release/);
  });
});

describe("the app's variables through Secret Manager", () => {
  const vars = { DATABASE_URL: "postgres://pilot:s3cr%2Ft@10.43.0.3:5432/pilot?sslmode=require", PGPASSWORD: "s3cr/t", PGHOST: "10.43.0.3", API_KEY: "k-123456" };

  it("writes one labelled secret per variable, readable by the app's account only, and the revision reads each, pinned", async () => {
    await deploy("x/web:1");
    const r = await releaseCloudRunApp(env, app(), vars);
    expect(r.variables).toEqual({ written: ["API_KEY", "DATABASE_URL", "PGHOST", "PGPASSWORD"], unchanged: [], deleted: [], skipped: [] });
    const ids = [...secretsOf().secrets.values()].map((s) => s.id).sort();
    expect(ids).toEqual(["pilot-default_shop_web_API_KEY", "pilot-default_shop_web_DATABASE_URL", "pilot-default_shop_web_PGHOST", "pilot-default_shop_web_PGPASSWORD"]);
    for (const [k, v] of Object.entries(vars)) {
      const s = secretsOf().get(P, `pilot-default_shop_web_${k}`)!;
      expect(s.resource.labels).toEqual({ "pilot-stack": "default", "pilot-stack-id": LINEAGE, "pilot-key": "app-config" });
      expect(s.resource.annotations).toEqual({ "pilot-app": "shop/web", "pilot-variable": k });
      expect(s.resource.replication).toEqual({ automatic: {} });
      expect(value(s.id, "1")).toBe(v);
      expect(s.policy.bindings).toEqual([{ role: "roles/secretmanager.secretAccessor", members: [`serviceAccount:${appsAccount}`] }]);
    }
    const s = await service();
    expect(refs(s)).toEqual({
      API_KEY: "pilot-default_shop_web_API_KEY@1",
      DATABASE_URL: "pilot-default_shop_web_DATABASE_URL@1",
      PGHOST: "pilot-default_shop_web_PGHOST@1",
      PGPASSWORD: "pilot-default_shop_web_PGPASSWORD@1",
    });
    // Waypoint's own variables are still there; the revision with the secrets started (the fake checked the account may read them).
    expect(envOf(s).map((e) => e.name)).toContain("WAYPOINT_SERVER_ADDR");
    expect(s.status?.conditions?.find((c) => c.type === "Ready")?.status).toBe("True");
    expect(r.revision).toBe(s.status?.latestCreatedRevisionName);
    // No value anywhere in what the release returns.
    for (const v of Object.values(vars)) expect(JSON.stringify(r)).not.toContain(v);
  });

  it("the next deploy: an unchanged value keeps its version, a changed one gets a new one, an unset one is gone from the revision and Secret Manager", async () => {
    await deploy("x/web:1");
    await releaseCloudRunApp(env, app(), vars);
    await deploy("x/web:2"); // Waypoint's fresh template: no secret references until Pilot releases.
    expect(refs(await service())).toEqual({});
    const { API_KEY: _gone, ...rest } = vars;
    const r = await releaseCloudRunApp(env, app(), { ...rest, PGPASSWORD: "n3w", DATABASE_URL: "postgres://pilot:n3w@10.43.0.3:5432/pilot?sslmode=require" });
    expect(r.variables).toEqual({ written: ["DATABASE_URL", "PGPASSWORD"], unchanged: ["PGHOST"], deleted: ["API_KEY"], skipped: [] });
    expect(refs(await service())).toEqual({
      DATABASE_URL: "pilot-default_shop_web_DATABASE_URL@2",
      PGHOST: "pilot-default_shop_web_PGHOST@1",
      PGPASSWORD: "pilot-default_shop_web_PGPASSWORD@2",
    });
    expect(value("pilot-default_shop_web_PGPASSWORD", "2")).toBe("n3w");
    expect(secretsOf().get(P, "pilot-default_shop_web_PGHOST")!.versions).toHaveLength(1);
    expect(secretsOf().get(P, "pilot-default_shop_web_API_KEY")).toBeUndefined();
    // Released again with nothing new: no new version, no new revision.
    const revisions = gcp.control.world.run.services.get(`${P}/web`)!.revisions.length;
    const same = await releaseCloudRunApp(env, app(), { ...rest, PGPASSWORD: "n3w", DATABASE_URL: "postgres://pilot:n3w@10.43.0.3:5432/pilot?sslmode=require" });
    expect(same.variables.written).toEqual([]);
    expect(gcp.control.world.run.services.get(`${P}/web`)!.revisions).toHaveLength(revisions);
  });

  it("an app running as the project's default compute account (a file without service_account_name): that account may read", async () => {
    await deploy("x/web:1", { serviceAccount: null });
    await releaseCloudRunApp(env, app(), { API_KEY: "k-123456" });
    const s = secretsOf().get(P, "pilot-default_shop_web_API_KEY")!;
    expect(s.policy.bindings).toEqual([{ role: "roles/secretmanager.secretAccessor", members: [`serviceAccount:${gcp.projectNumber}-compute@developer.gserviceaccount.com`] }]);
    expect((await service()).status?.conditions?.find((c) => c.type === "Ready")?.status).toBe("True");
  });

  it("PORT and Cloud Run's other own names are left out and said so", async () => {
    await deploy("x/web:1");
    const r = await releaseCloudRunApp(env, app(), { PORT: "9000", API_KEY: "k-123456" });
    expect(r.variables.skipped).toEqual(["PORT"]);
    expect(Object.keys(refs(await service()))).toEqual(["API_KEY"]);
    expect(secretsOf().get(P, "pilot-default_shop_web_PORT")).toBeUndefined();
  });

  it("refuses a secret of that name that is not this stack's, before touching the service", async () => {
    await deploy("x/web:1");
    const sm = env.secrets;
    await sm.projects.secrets.create({ parent: `projects/${P}`, secretId: "pilot-default_shop_web_API_KEY", requestBody: { replication: { automatic: {} }, labels: { "pilot-stack": "default", "pilot-stack-id": "someone-else" } } });
    const before = await service();
    await expect(releaseCloudRunApp(env, app(), { API_KEY: "k-123456" })).rejects.toThrow(/a secret named pilot-default_shop_web_API_KEY already exists and does not belong to this stack/);
    expect(secretsOf().get(P, "pilot-default_shop_web_API_KEY")!.versions).toEqual([]);
    expect((await service()).metadata?.resourceVersion).toBe(before.metadata?.resourceVersion);
  });

  it("`pilot destroy` deletes one app's secrets, `pilot teardown` the stack's; another app's, another stack's and a stranger's stay", async () => {
    const reader = `serviceAccount:${appsAccount}`;
    const target = { project: P, stack: "default", stackId: LINEAGE, appProject: "shop", app: "web" };
    await writeAppSecrets(env.secrets, target, { A: "1111", B: "2222" }, reader);
    await writeAppSecrets(env.secrets, { ...target, app: "web-2" }, { A: "3333" }, reader);
    await writeAppSecrets(env.secrets, { ...target, stack: "default-2" }, { A: "4444" }, reader);
    await env.secrets.projects.secrets.create({ parent: `projects/${P}`, secretId: "pilot-default_shop_web_C", requestBody: { replication: { automatic: {} } } });
    expect(await deleteAppSecrets(env.secrets, target)).toEqual(["A", "B"]);
    const left = () => [...secretsOf().secrets.values()].map((s) => s.id).sort();
    expect(left()).toEqual(["pilot-default-2_shop_web_A", "pilot-default_shop_web-2_A", "pilot-default_shop_web_C"]);
    expect(await deleteStackSecrets(env.secrets, { project: P, stack: "default" })).toEqual(["pilot-default_shop_web-2_A"]);
    expect(left()).toEqual(["pilot-default-2_shop_web_A", "pilot-default_shop_web_C"]);
    expect(await deleteStackSecrets(env.secrets, { project: P, stack: "default" })).toEqual([]);
  });
});

describe("pilot up's Cloud Run steps (src/apps/cloud-run-up.ts)", () => {
  const ref = { project: "shop", app: "web", key: "shop/web" };
  const record: AppState = { project: "shop", app: "web", target: "cloud-run", builder: "docker", port: 8080, withDb: true, dir: "/x", createdAt: "now", public: false };

  it("reads the app's variables from the server (`waypoint config get -json`), hides every secret value, and releases", async () => {
    await deploy("x/web:1");
    const calls: string[][] = [];
    const config = { DATABASE_URL: "postgres://pilot:pw@10.43.0.3:5432/pilot", PGPASSWORD: "pw-pw-pw", PGHOST: "10.43.0.3", PGUSER: "pilot", API_KEY: "k-123456" };
    const session = {
      async waypoint(args: string[]) {
        calls.push(args);
        return { code: 0, stdout: JSON.stringify(config), stderr: "" };
      },
    };
    const hidden: string[] = [];
    const r = await releaseAfterJob(session, { state: stackState("gcp"), stack: "default", ref, record, addSecrets: (v) => hidden.push(...v), env: async () => env });
    expect(calls).toEqual([["config", "get", "-json", "-project=shop", "-app=web"]]);
    expect(hidden.sort()).toEqual([config.API_KEY, config.DATABASE_URL, config.PGPASSWORD].sort());
    expect(r.variables.written).toEqual(["API_KEY", "DATABASE_URL", "PGHOST", "PGPASSWORD", "PGUSER"]);
    expect(Object.keys(refs(await service())).sort()).toEqual(Object.keys(config).sort());
  });

  it("an app recorded before Pilot released Cloud Run apps (no `public`) is private", async () => {
    const revision = await deploy("x/web:1");
    await waypointRelease(run, { project: P, region: REGION, app: "web" }, revision);
    const { public: _p, ...old } = record;
    const session = { waypoint: async () => ({ code: 0, stdout: "{}", stderr: "" }) };
    await releaseAfterJob(session, { state: stackState("gcp"), stack: "default", ref, record: old, addSecrets: () => {}, env: async () => env });
    expect(await members()).toEqual([]);
  });

  it("a job whose release step is Waypoint's, refused by the server's account: the advice is to regenerate the file, with the app's own flags", () => {
    const lines = ["» Releasing web...", "! Unable to set no auth policy: rpc error: code = Aborted desc = googleapi: Error 403: Permission 'run.services.setIamPolicy' denied on resource"];
    const hint = cloudRunFailureHint({ ref, record, stack: "prod", region: REGION }, "release", lines)!;
    expect(hint).toContain("pilot new app --name prod --project shop --app web --target cloud-run --port 8080 --builder docker --with-db --dir /x --force");
    expect(hint).toContain("add --public only if anyone on the internet may call it");
    expect(cloudRunFailureHint({ ref, record: { ...record, public: true, withDb: false }, stack: "prod", region: REGION }, "release", lines)).toContain("--port 8080 --builder docker --public --dir /x --force");
    expect(cloudRunFailureHint({ ref, record, stack: "prod", region: REGION }, "deploy", ["! Cloud Run service failed to get ready"])).toMatch(/must start and listen on its port without them/);
    expect(cloudRunFailureHint({ ref, record, stack: "prod", region: REGION }, "build", ["! no Dockerfile"])).toBeUndefined();
  });
});

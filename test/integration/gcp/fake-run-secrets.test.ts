/**
 * The GCP fake's Cloud Run (run v1) and Secret Manager (v1), with Google's
 * own `googleapis` clients: requests are held to the discovery documents,
 * and the behaviour Pilot's release depends on is Google's: revisions from
 * template changes, a status that lags until the revision started,
 * resourceVersion and etag conflicts, traffic rules, a revision that cannot
 * read a secret failing, public members allowed on a service's policy,
 * `versions/latest`, and both APIs off in a new project.
 */
import { run_v1 } from "googleapis/build/src/apis/run/v1.js";
import { secretmanager_v1 } from "googleapis/build/src/apis/secretmanager/v1.js";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startFakeGcp, type FakeGcp } from "../../fakes/gcp/index.js";
import { runClient, waypointDeploy, waypointPollReady, waypointRelease } from "../../support/waypoint-cloud-run.js";

const REGION = "europe-west1";
let gcp: FakeGcp;
let P: string;
let run: run_v1.Run;
let sm: secretmanager_v1.Secretmanager;

/** The status and body of a call that must fail. */
async function failure(p: Promise<unknown>): Promise<{ status: number; message: string; canonical: string }> {
  try {
    await p;
  } catch (e) {
    const res = (e as { response?: { status: number; data: { error: { message: string; status: string } } } }).response;
    if (!res) throw e;
    return { status: res.status, message: res.data.error.message, canonical: res.data.error.status };
  }
  throw new Error("expected the call to fail");
}

const svc = (app: string) => `namespaces/${P}/services/${app}`;
const resource = (app: string) => `projects/${P}/locations/${REGION}/services/${app}`;
const get = async (app: string) => (await run.namespaces.services.get({ name: svc(app) })).data;
const ready = (s: run_v1.Schema$Service) => s.status?.conditions?.find((c) => c.type === "Ready");
const b64 = (s: string) => Buffer.from(s, "utf8").toString("base64");

beforeAll(async () => {
  gcp = await startFakeGcp({ latencyMs: 20 });
  P = gcp.project;
  run = runClient(gcp.url);
  sm = new secretmanager_v1.Secretmanager({ rootUrl: `${gcp.url}/` });
});
afterAll(() => gcp?.close());
beforeEach(() => {
  gcp.control.reset();
  gcp.control.enableApi("run.googleapis.com");
  gcp.control.enableApi("secretmanager.googleapis.com");
});

describe("Cloud Run v1 services", () => {
  it("a created service is Ready Unknown until its first revision started, then Ready with all traffic on it", async () => {
    const made = (await run.namespaces.services.create({
      parent: `namespaces/${P}`,
      requestBody: { apiVersion: "serving.knative.dev/v1", kind: "Service", metadata: { name: "web" }, spec: { template: { spec: { containers: [{ image: "x/web:latest" }] } } } },
    })).data;
    expect(made.metadata).toMatchObject({ name: "web", namespace: gcp.projectNumber, generation: 1 });
    expect(made.status?.observedGeneration).toBe(1);
    expect(ready(made)?.status).toBe("Unknown");
    expect(made.status?.traffic).toBeUndefined();
    const s = await waypointPollReady(run, P, "web");
    expect(s.status).toMatchObject({ observedGeneration: 1, latestCreatedRevisionName: expect.stringMatching(/^web-00001-/), url: `https://web-${gcp.projectNumber}.${REGION}.run.app` });
    expect(s.status?.traffic).toEqual([{ latestRevision: true, revisionName: s.status!.latestCreatedRevisionName, percent: 100 }]);
    expect(s.metadata?.labels).toEqual({ "cloud.googleapis.com/location": REGION });
    expect((await run.projects.locations.services.get({ name: resource("web") })).data.metadata?.uid).toBe(s.metadata?.uid);
    expect((await failure(run.projects.locations.services.get({ name: `projects/${P}/locations/us-central1/services/web` }))).status).toBe(404);
  });

  it("replace: a template change makes a revision, a traffic change alone does not; a stale resourceVersion is 409", async () => {
    const first = await waypointDeploy(run, { project: P, region: REGION, app: "web", image: "x/web:1" });
    const second = await waypointDeploy(run, { project: P, region: REGION, app: "web", image: "x/web:2" });
    expect(second).not.toBe(first);
    // Waypoint's deploy pinned the traffic to the revision that served before.
    let s = await get("web");
    expect(s.spec?.traffic).toEqual([{ revisionName: first, percent: 100 }]);
    expect(s.status?.traffic).toEqual([{ revisionName: first, percent: 100 }]);
    const stale = structuredClone(s);
    s.spec!.traffic = [{ latestRevision: true, percent: 100 }];
    const replaced = (await run.namespaces.services.replaceService({ name: svc("web"), requestBody: s })).data;
    expect(replaced.metadata?.generation).toBe(s.metadata!.generation! + 1);
    s = await waypointPollReady(run, P, "web");
    expect(s.status?.traffic).toEqual([{ latestRevision: true, revisionName: second, percent: 100 }]);
    expect(gcp.control.world.run.services.get(`${P}/web`)!.revisions).toHaveLength(2);
    const conflict = await failure(run.namespaces.services.replaceService({ name: svc("web"), requestBody: stale }));
    expect(conflict).toMatchObject({ status: 409, canonical: "ABORTED" });
  });

  it("refuses traffic that does not add up to 100 or names no revision, reserved or repeated env names, and unknown fields", async () => {
    await waypointDeploy(run, { project: P, region: REGION, app: "web", image: "x/web:1" });
    const s = await get("web");
    const bad = async (change: (x: run_v1.Schema$Service) => void) => {
      const x = structuredClone(s);
      change(x);
      return failure(run.namespaces.services.replaceService({ name: svc("web"), requestBody: x }));
    };
    expect((await bad((x) => (x.spec!.traffic = [{ latestRevision: true, percent: 50 }]))).status).toBe(400);
    expect((await bad((x) => (x.spec!.traffic = [{ revisionName: "web-09999-abc", percent: 100 }]))).message).toMatch(/does not exist/);
    expect((await bad((x) => (x.spec!.template!.spec!.containers![0]!.env = [{ name: "PORT", value: "1" }]))).message).toMatch(/reserved env names/);
    expect((await bad((x) => (x.spec!.template!.spec!.containers![0]!.env = [{ name: "A", value: "1" }, { name: "A", value: "2" }]))).message).toMatch(/Duplicate value/);
    expect((await bad((x) => ((x.spec!.template!.spec!.containers![0]!.env as object[]) = [{ name: "A", colour: "red" }]))).message).toMatch(/Unknown name "colour"/);
    expect((await bad((x) => (x.spec!.template!.spec!.serviceAccountName = `nobody-here@${P}.iam.gserviceaccount.com`))).message).toMatch(/does not exist/);
  });

  it("a revision that crashes (a failed-operation fault) or cannot read its secret is Ready False, and traffic stays", async () => {
    const first = await waypointDeploy(run, { project: P, region: REGION, app: "web", image: "x/web:1" });
    gcp.control.faults.add({ method: "run.namespaces.services.replaceService", failOperation: { message: "Container failed to start and listen on the port" } });
    await expect(waypointDeploy(run, { project: P, region: REGION, app: "web", image: "x/web:2" })).rejects.toThrow(/failed to get ready/);
    let s = await get("web");
    expect(ready(s)).toMatchObject({ status: "False", message: expect.stringContaining("Container failed to start") });
    expect(s.status?.latestReadyRevisionName).toBe(first);

    // A secret the revision's account may not read.
    await sm.projects.secrets.create({ parent: `projects/${P}`, secretId: "k", requestBody: { replication: { automatic: {} } } });
    await sm.projects.secrets.addVersion({ parent: `projects/${P}/secrets/k`, requestBody: { payload: { data: b64("v") } } });
    s.spec!.template!.spec!.containers![0]!.env = [{ name: "K", valueFrom: { secretKeyRef: { name: "k", key: "1" } } }];
    s.spec!.traffic = [{ latestRevision: true, percent: 100 }];
    await run.namespaces.services.replaceService({ name: svc("web"), requestBody: s });
    await expect(waypointPollReady(run, P, "web")).rejects.toThrow();
    s = await get("web");
    expect(ready(s)?.message).toContain(`Permission denied on secret: projects/${gcp.projectNumber}/secrets/k/versions/1 for Revision service account ${gcp.projectNumber}-compute@developer.gserviceaccount.com`);
    expect(s.status?.traffic).toEqual([{ latestRevision: true, revisionName: first, percent: 100 }]);

    // Granted: the next revision starts.
    const policy = (await sm.projects.secrets.getIamPolicy({ resource: `projects/${P}/secrets/k` })).data;
    await sm.projects.secrets.setIamPolicy({
      resource: `projects/${P}/secrets/k`,
      requestBody: { policy: { ...policy, bindings: [{ role: "roles/secretmanager.secretAccessor", members: [`serviceAccount:${gcp.projectNumber}-compute@developer.gserviceaccount.com`] }] } },
    });
    s.spec!.template!.metadata = { annotations: { again: "1" } };
    s.metadata!.resourceVersion = (await get("web")).metadata!.resourceVersion;
    await run.namespaces.services.replaceService({ name: svc("web"), requestBody: s });
    expect(ready(await waypointPollReady(run, P, "web"))?.status).toBe("True");
  });

  it("a service's IAM policy: empty at first, allUsers allowed (Waypoint's release sets it without an etag), a stale etag is 409", async () => {
    const revision = await waypointDeploy(run, { project: P, region: REGION, app: "web", image: "x/web:1" });
    const empty = (await run.projects.locations.services.getIamPolicy({ resource: resource("web") })).data;
    expect(empty.bindings).toBeUndefined();
    await waypointRelease(run, { project: P, region: REGION, app: "web" }, revision);
    const pub = (await run.projects.locations.services.getIamPolicy({ resource: resource("web") })).data;
    expect(pub.bindings).toEqual([{ role: "roles/run.invoker", members: ["allUsers"] }]);
    const stale = await failure(run.projects.locations.services.setIamPolicy({ resource: resource("web"), requestBody: { policy: { ...empty, bindings: [] } } }));
    expect(stale).toMatchObject({ status: 409, canonical: "ABORTED" });
    const bad = await failure(run.projects.locations.services.setIamPolicy({ resource: resource("web"), requestBody: { policy: { bindings: [{ role: "roles/run.invoker", members: ["everyone"] }] } } }));
    expect(bad.status).toBe(400);
    expect((await failure(run.projects.locations.services.getIamPolicy({ resource: resource("nope") }))).status).toBe(404);
  });
});

describe("Secret Manager v1", () => {
  it("secrets: created labelled (name by project number), listed by a label filter, deleted; bad ids and labels are 400", async () => {
    const s = (await sm.projects.secrets.create({ parent: `projects/${P}`, secretId: "pilot-x_shop_web_A", requestBody: { replication: { automatic: {} }, labels: { "pilot-stack": "x" }, annotations: { "pilot-app": "shop/web" } } })).data;
    expect(s.name).toBe(`projects/${gcp.projectNumber}/secrets/pilot-x_shop_web_A`);
    await sm.projects.secrets.create({ parent: `projects/${P}`, secretId: "other", requestBody: { replication: { automatic: {} }, labels: { "pilot-stack": "y" } } });
    expect((await failure(sm.projects.secrets.create({ parent: `projects/${P}`, secretId: "other", requestBody: { replication: { automatic: {} } } }))).status).toBe(409);
    const listed = (await sm.projects.secrets.list({ parent: `projects/${P}`, filter: "labels.pilot-stack=x" })).data;
    expect(listed.secrets?.map((x) => x.name)).toEqual([s.name]);
    expect((await failure(sm.projects.secrets.create({ parent: `projects/${P}`, secretId: "bad.id", requestBody: { replication: { automatic: {} } } }))).status).toBe(400);
    expect((await failure(sm.projects.secrets.create({ parent: `projects/${P}`, secretId: "nolabel", requestBody: { replication: { automatic: {} }, labels: { Bad: "x" } } }))).status).toBe(400);
    expect((await failure(sm.projects.secrets.create({ parent: `projects/${P}`, secretId: "norepl", requestBody: {} }))).status).toBe(400);
    expect((await failure(sm.projects.secrets.create({ parent: `projects/${P}`, secretId: "x1", requestBody: { replication: { automatic: {} }, colour: "red" } as never }))).message).toMatch(/Unknown name "colour"/);
    await sm.projects.secrets.delete({ name: `projects/${gcp.projectNumber}/secrets/pilot-x_shop_web_A` });
    expect((await failure(sm.projects.secrets.get({ name: `projects/${P}/secrets/pilot-x_shop_web_A` }))).status).toBe(404);
    expect(gcp.control.inventory({ api: "secretmanager" }).map((i) => i.name)).toEqual(["other"]);
  });

  it("versions: added, read back through latest or a number; a disabled one is FAILED_PRECONDITION; a wrong checksum is 400", async () => {
    const name = `projects/${P}/secrets/k`;
    await sm.projects.secrets.create({ parent: `projects/${P}`, secretId: "k", requestBody: { replication: { automatic: {} } } });
    expect((await failure(sm.projects.secrets.versions.access({ name: `${name}/versions/latest` }))).status).toBe(404);
    const v1 = (await sm.projects.secrets.addVersion({ parent: name, requestBody: { payload: { data: b64("one") } } })).data;
    expect(v1).toMatchObject({ name: `projects/${gcp.projectNumber}/secrets/k/versions/1`, state: "ENABLED" });
    await sm.projects.secrets.addVersion({ parent: name, requestBody: { payload: { data: b64("two") } } });
    const latest = (await sm.projects.secrets.versions.access({ name: `${name}/versions/latest` })).data;
    expect(latest.name).toBe(`projects/${gcp.projectNumber}/secrets/k/versions/2`);
    expect(Buffer.from(latest.payload!.data!, "base64").toString()).toBe("two");
    expect(Buffer.from((await sm.projects.secrets.versions.access({ name: `${name}/versions/1` })).data.payload!.data!, "base64").toString()).toBe("one");
    await sm.projects.secrets.versions.disable({ name: `${name}/versions/2`, requestBody: {} });
    expect(await failure(sm.projects.secrets.versions.access({ name: `${name}/versions/latest` }))).toMatchObject({ status: 400, canonical: "FAILED_PRECONDITION" });
    expect((await failure(sm.projects.secrets.addVersion({ parent: name, requestBody: { payload: { data: b64("x"), dataCrc32c: "1" } } }))).message).toMatch(/Checksum mismatch/);
    // CRC32C of "x" (Castagnoli), as Google's client libraries compute it.
    expect((await sm.projects.secrets.addVersion({ parent: name, requestBody: { payload: { data: b64("x"), dataCrc32c: "2839306131" } } })).data.clientSpecifiedPayloadChecksum).toBe(true);
  });

  it("a secret's IAM policy is read-modify-write with its etag", async () => {
    const name = `projects/${P}/secrets/k`;
    await sm.projects.secrets.create({ parent: `projects/${P}`, secretId: "k", requestBody: { replication: { automatic: {} } } });
    const p0 = (await sm.projects.secrets.getIamPolicy({ resource: name })).data;
    const p1 = (await sm.projects.secrets.setIamPolicy({ resource: name, requestBody: { policy: { ...p0, bindings: [{ role: "roles/secretmanager.secretAccessor", members: ["user:a@example.com"] }] } } })).data;
    expect(p1.bindings).toEqual([{ role: "roles/secretmanager.secretAccessor", members: ["user:a@example.com"] }]);
    expect((await failure(sm.projects.secrets.setIamPolicy({ resource: name, requestBody: { policy: { ...p0, bindings: [] } } }))).status).toBe(409);
  });
});

it("Cloud Run and Secret Manager are off in a new project, as Google has them", async () => {
  gcp.control.reset();
  expect(await failure(sm.projects.secrets.list({ parent: `projects/${P}` }))).toMatchObject({ status: 403, message: expect.stringContaining("Secret Manager API has not been used") });
  expect(await failure(run.namespaces.services.get({ name: svc("web") }))).toMatchObject({ status: 403, message: expect.stringContaining("Cloud Run Admin API has not been used") });
});

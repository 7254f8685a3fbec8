/**
 * What a Waypoint 0.11.4 job does to a Cloud Run service, done through the
 * GCP fake's own API with Google's run v1 client, call for call as
 * builtin/google/cloudrun does it (no real Cloud Run deploy is possible here):
 *
 *  - `waypointDeploy` (platform.go resourceServiceCreate): create the service,
 *    or replace it with a fresh revision template (the job's env, a nonce
 *    annotation, the file's service account and VPC connector) and, when the
 *    traffic followed the latest revision, the traffic pinned to the revision
 *    that was latest before; then poll until Ready;
 *  - `waypointRelease` (releaser.go): the traffic all on the deployed revision,
 *    then setIamPolicy with a policy of one binding, allUsers as
 *    roles/run.invoker (no etag: it replaces whatever was there).
 */
import { run_v1 } from "googleapis/build/src/apis/run/v1.js";

export interface WaypointDeployInput {
  project: string;
  region: string;
  app: string;
  image: string;
  port?: number;
  /** What Waypoint's deployConfig.Env() gives the entrypoint (WAYPOINT_*), plus static_environment. */
  env?: Record<string, string>;
  serviceAccount?: string;
  connector?: string;
}

export function runClient(url: string): run_v1.Run {
  return new run_v1.Run({ rootUrl: `${url}/` });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** pollServiceReady: until the Ready condition is True (a False one throws, as Waypoint's deploy fails). */
export async function waypointPollReady(run: run_v1.Run, project: string, app: string, timeoutMs = 10_000): Promise<run_v1.Schema$Service> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const s = (await run.namespaces.services.get({ name: `namespaces/${project}/services/${app}` })).data;
    const ready = s.status?.conditions?.find((c) => c.type === "Ready");
    if (ready?.status === "True") return s;
    if (ready?.status === "False") throw new Error("Cloud Run service failed to get ready");
    if (Date.now() > end) throw new Error(`timed out waiting for ${app}: ${JSON.stringify(s.status)}`);
    await sleep(10);
  }
}

/** Deploys as the google-cloud-run platform does; returns the revision it made (the deployment's RevisionId). */
export async function waypointDeploy(run: run_v1.Run, d: WaypointDeployInput): Promise<string> {
  let existing: run_v1.Schema$Service | undefined;
  try {
    existing = (await run.namespaces.services.get({ name: `namespaces/${d.project}/services/${d.app}` })).data;
  } catch (err) {
    if ((err as { status?: number }).status !== 404) throw err;
  }
  const service: run_v1.Schema$Service = existing ?? { apiVersion: "serving.knative.dev/v1", kind: "Service", metadata: { name: d.app }, spec: {} };
  if (existing && service.spec?.traffic?.[0]?.latestRevision) {
    service.spec.traffic = [{ revisionName: existing.status?.latestCreatedRevisionName, percent: 100 }];
  }
  const annotations: Record<string, string> = { "waypoint.hashicorp.com/nonce": new Date().toISOString() };
  if (d.connector) {
    annotations["run.googleapis.com/vpc-access-connector"] = d.connector;
    annotations["run.googleapis.com/vpc-access-egress"] = "private-ranges-only";
  }
  service.spec!.template = {
    metadata: { annotations },
    spec: {
      containers: [
        {
          image: d.image,
          env: Object.entries(d.env ?? { WAYPOINT_SERVER_ADDR: "waypoint-server:9701", WAYPOINT_DEPLOYMENT_ID: "01ABC" }).map(([name, value]) => ({ name, value })),
          resources: { limits: {} },
          ...(d.port ? { ports: [{ containerPort: d.port }] } : {}),
        },
      ],
      ...(d.serviceAccount ? { serviceAccountName: d.serviceAccount } : {}),
    },
  };
  if (existing) await run.namespaces.services.replaceService({ name: `namespaces/${d.project}/services/${d.app}`, requestBody: service });
  else await run.namespaces.services.create({ parent: `namespaces/${d.project}`, requestBody: service });
  const ready = await waypointPollReady(run, d.project, d.app);
  return ready.status!.latestCreatedRevisionName!;
}

/** Releases as the google-cloud-run releaser does: traffic to `revision`, then the service made public. */
export async function waypointRelease(run: run_v1.Run, d: Pick<WaypointDeployInput, "project" | "region" | "app">, revision: string): Promise<void> {
  const name = `namespaces/${d.project}/services/${d.app}`;
  const service = (await run.namespaces.services.get({ name })).data;
  service.spec!.traffic = [{ revisionName: revision, percent: 100 }];
  await run.namespaces.services.replaceService({ name, requestBody: service });
  await run.projects.locations.services.setIamPolicy({
    resource: `projects/${d.project}/locations/${d.region}/services/${d.app}`,
    requestBody: { policy: { bindings: [{ role: "roles/run.invoker", members: ["allUsers"] }] } },
  });
  await waypointPollReady(run, d.project, d.app);
}

/**
 * Pilot's own release of a Cloud Run app, run by `pilot up` after the
 * Waypoint job deployed it, from the user's machine with the user's
 * credentials (Application Default Credentials; the same endpoint rules as
 * every Google client of Pilot's, src/providers/gcp/endpoints.ts).
 *
 * Why Pilot and not Waypoint: Waypoint 0.11.4's google-cloud-run releaser
 * grants `allUsers` the invoker role on every release, whatever the file says
 * (builtin/google/cloudrun/releaser.go), so the generated waypoint.hcl uses the
 * `null` releaser and the server's account holds roles/run.developer, which
 * cannot set a service's IAM policy at all. The release here:
 *
 *  1. reads the service the deploy step made or updated (Cloud Run Admin API
 *     v1, the Knative shape Waypoint itself uses, on the regional endpoint);
 *  2. for a private app, removes every public member from its IAM policy
 *     first (an app Waypoint released before, or one switched back to private);
 *  3. writes the app's variables to Secret Manager (app-secrets.ts) and lets
 *     the identity the revision runs as read them;
 *  4. replaces the service with those secrets in its revision's env (pinned
 *     versions), the revision named by Pilot, and all traffic on that
 *     revision (Waypoint's deploy pins it to the one that served before;
 *     cloud-run-spec.ts allTo says why a name and not `latestRevision`), then
 *     waits until the service's status has caught up with that generation and
 *     says Ready; a revision that cannot start leaves the traffic where it was;
 *  5. for a public app, grants `allUsers` roles/run.invoker, once it serves;
 *  6. deletes the secrets of variables the app no longer has (`pilot env unset`).
 *
 * IAM policies are read-modify-write with their etag, and the service replace
 * names the resourceVersion it read: a concurrent change makes Pilot read again.
 * Values are never in a message, log line or result: only variable names.
 */
import { cloudresourcemanager_v1 } from "googleapis/build/src/apis/cloudresourcemanager/v1.js";
import { run_v1 } from "googleapis/build/src/apis/run/v1.js";
import { secretmanager_v1 } from "googleapis/build/src/apis/secretmanager/v1.js";
import { PilotError } from "../../errors.js";
import type { PollEnv } from "../scaffold.js";
import { deleteAppSecrets, writeAppSecrets, type AppSecretsTarget } from "./app-secrets.js";
import { clientSetup } from "./clients.js";
import { allTo, appSecretPrefix, isAllTo, releaseRevisionName, RESERVED_ENV, withInvokerAccess, withSecretEnv, type EnvVar } from "./cloud-run-spec.js";
import { disabledService, googleError, isConcurrentChange, isNotFound } from "./errors.js";
import { waitFor } from "./shared.js";

export const CLOUD_RUN_SERVICE_TYPE = "gcp.run.service";

/** The clients and place one release works with; tests set pollScale 0. */
export interface CloudRunEnv extends PollEnv {
  run: run_v1.Run;
  secrets: secretmanager_v1.Secretmanager;
  project: string;
  region: string;
  /** The project's number: the default compute account is named by it. */
  projectNumber(): Promise<string>;
  progress?: (message: string) => void;
}

/**
 * Clients for one region. Cloud Run's v1 `namespaces` calls are served only by
 * the regional endpoint (REGION-run.googleapis.com), as Waypoint calls them.
 */
export function createCloudRunEnv(env: NodeJS.ProcessEnv, project: string, region: string, opts: { progress?: (m: string) => void; pollScale?: number } = {}): CloudRunEnv {
  const { endpoints, opts: base } = clientSetup(env);
  const crm = new cloudresourcemanager_v1.Cloudresourcemanager(base(endpoints.cloudresourcemanager));
  let number: Promise<string> | undefined;
  return {
    run: new run_v1.Run(base(endpoints.run ?? `https://${region}-run.googleapis.com/`)),
    secrets: new secretmanager_v1.Secretmanager(base(endpoints.secretmanager)),
    project,
    region,
    projectNumber: () => (number ??= crm.projects.get({ projectId: project }).then((r) => String(r.data.projectNumber))),
    ...opts,
  };
}

/** The app being released. */
export interface CloudRunApp {
  stack: string;
  stackId: string;
  /** The Waypoint project and app; the service is named after the app, as Waypoint names it. */
  appProject: string;
  app: string;
  /** From the app's record in state (`pilot new app --public`). */
  public: boolean;
}

export interface CloudRunRelease {
  url?: string;
  revision?: string;
  public: boolean;
  /** Members added to or removed from the service's IAM policy ("allUsers (roles/run.invoker)"). */
  access: { added: string[]; removed: string[] };
  /** By variable name: a new version written, the same value kept, the secret deleted, left out (Cloud Run sets it). */
  variables: { written: string[]; unchanged: string[]; deleted: string[]; skipped: string[] };
}

type Service = run_v1.Schema$Service;

/** JSON with object keys sorted: the API may answer an env entry's fields in another order than Pilot wrote them. */
function stableJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableJson).join(",")}]`;
  if (v && typeof v === "object") {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o).filter((k) => o[k] !== undefined && o[k] !== null).sort().map((k) => `${JSON.stringify(k)}:${stableJson(o[k])}`).join(",")}}`;
  }
  return JSON.stringify(v) ?? "null";
}

const serviceName = (env: CloudRunEnv, app: CloudRunApp) => `namespaces/${env.project}/services/${app.app}`;
const resourceName = (env: CloudRunEnv, app: CloudRunApp) => `projects/${env.project}/locations/${env.region}/services/${app.app}`;

/** Google's message of a failed call, wrapped with the action. */
function failure(action: string, err: unknown, hint?: string): PilotError {
  if (err instanceof PilotError) return err;
  const service = disabledService(err);
  if (service) {
    return new PilotError(`${action}: ${service === "an API this call needs" ? service : `the ${service} API`} is not enabled.`, {
      hint: "Run `pilot up-server --enable-apis` (it checks and enables every API Pilot needs), then `pilot up` again.",
    });
  }
  return new PilotError(`${action}: ${googleError(err)?.message ?? (err as Error)?.message ?? String(err)}`, { hint, cause: err });
}

async function getService(env: CloudRunEnv, app: CloudRunApp): Promise<Service | undefined> {
  try {
    return (await env.run.namespaces.services.get({ name: serviceName(env, app) })).data;
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw failure(`read Cloud Run service ${app.app} in ${env.region}`, err);
  }
}

/** Sets who may call the service (withInvokerAccess), read-modify-write with the policy's etag. */
export async function setInvokerAccess(env: CloudRunEnv, app: CloudRunApp, isPublic: boolean): Promise<{ added: string[]; removed: string[] }> {
  const resource = resourceName(env, app);
  const action = `set who may call Cloud Run service ${app.app} in ${env.region}`;
  for (let tries = 0; ; tries++) {
    try {
      const policy = (await env.run.projects.locations.services.getIamPolicy({ resource, "options.requestedPolicyVersion": 3 })).data;
      const change = withInvokerAccess(policy, isPublic);
      if (change.added.length === 0 && change.removed.length === 0) return { added: [], removed: [] };
      await env.run.projects.locations.services.setIamPolicy({ resource, requestBody: { policy: change.policy } });
      return { added: change.added, removed: change.removed };
    } catch (err) {
      if (!isConcurrentChange(err) || tries >= 4) throw failure(action, err);
    }
  }
}

/**
 * After a failed job: a private app's service loses any public member (an
 * earlier release by Waypoint's own releaser left `allUsers`), so the failure
 * is a safe one. Nothing else changes; no service means nothing to do.
 */
export async function secureCloudRunApp(env: CloudRunEnv, app: CloudRunApp): Promise<{ found: boolean; removed: string[] }> {
  if (app.public) return { found: false, removed: [] };
  if (!(await getService(env, app))) return { found: false, removed: [] };
  return { found: true, removed: (await setInvokerAccess(env, app, false)).removed };
}

/** The account the revision runs as: the template's, else the project's default compute account. */
async function runtimeAccount(env: CloudRunEnv, service: Service): Promise<string> {
  return service.spec?.template?.spec?.serviceAccountName || `${await env.projectNumber()}-compute@developer.gserviceaccount.com`;
}

/** Waits until the service's status reflects `generation` and says Ready; a revision that cannot start is an error. */
async function untilServing(env: CloudRunEnv, app: CloudRunApp, generation: number): Promise<Service> {
  const served = await waitFor(
    env,
    { what: `Cloud Run service ${app.app} to serve its new revision`, intervalMs: 3_000, timeoutMs: 10 * 60_000, progress: env.progress },
    async () => {
      const s = await getService(env, app);
      if (!s) throw new PilotError(`Cloud Run service ${app.app} in ${env.region} disappeared during the release.`);
      const caughtUp = (s.status?.observedGeneration ?? 0) >= generation;
      const ready = s.status?.conditions?.find((c) => c.type === "Ready");
      if (caughtUp && ready?.status === "False") {
        throw new PilotError(`Cloud Run could not start ${app.app}'s revision ${s.status?.latestCreatedRevisionName ?? ""}: ${ready.message ?? ready.reason ?? "not ready"}`, {
          hint: `Traffic stays on the revision that served before. The app's logs: \`gcloud run services logs read ${app.app} --region ${env.region} --project ${env.project}\`.`,
        });
      }
      return { done: caughtUp && ready?.status === "True", status: caughtUp ? `ready: ${(ready?.status ?? "unknown").toLowerCase()}` : "rolling out", value: s };
    },
  );
  return served!;
}

/**
 * The service with the app's secrets in its revision's env (a new revision,
 * named by Pilot, when that changes the env; else the one the deploy made) and
 * all traffic on that revision, replaced when that changes anything (naming
 * the resourceVersion it read; read again on a conflict); then waited on.
 */
async function rollOut(env: CloudRunEnv, app: CloudRunApp, refs: Parameters<typeof withSecretEnv>[1]): Promise<{ service: Service; revision: string }> {
  const action = `release Cloud Run service ${app.app} in ${env.region}`;
  for (let tries = 0; ; tries++) {
    const service = await getService(env, app);
    if (!service) throw new PilotError(`${action}: there is no such service.`, { hint: "The deploy step makes it: see the job's output above." });
    const template = service.spec?.template ?? {};
    const container = template.spec?.containers?.[0];
    const env0 = (container?.env ?? []) as EnvVar[];
    const envNext = withSecretEnv(env0, refs, appSecretPrefix(app.stack, app.appProject, app.app));
    const envChanged = stableJson(envNext) !== stableJson(env0);
    const revision = envChanged ? releaseRevisionName(app.app, (env.now ?? Date.now)()) : service.status?.latestCreatedRevisionName;
    if (!revision) throw new PilotError(`${action}: the service has no revision yet.`, { hint: "The deploy step makes one: see the job's output above." });
    if (!envChanged && isAllTo(service.spec?.traffic, revision)) return { service: await untilServing(env, app, service.metadata?.generation ?? 0), revision };
    const next: Service = {
      apiVersion: service.apiVersion,
      kind: service.kind,
      metadata: service.metadata,
      spec: {
        ...service.spec,
        template: envChanged
          ? { ...template, metadata: { ...template.metadata, name: revision }, spec: { ...template.spec, containers: [{ ...container, env: envNext as run_v1.Schema$EnvVar[] }] } }
          : template,
        traffic: allTo(revision),
      },
    };
    try {
      const replaced = (await env.run.namespaces.services.replaceService({ name: serviceName(env, app), requestBody: next })).data;
      return { service: await untilServing(env, app, replaced.metadata?.generation ?? 0), revision };
    } catch (err) {
      if (!(isConcurrentChange(err) || /has been modified/.test(googleError(err)?.message ?? "")) || tries >= 4) throw failure(action, err);
    }
  }
}

/** Releases the app (steps 1-6 above); `vars` are its variables as the Waypoint server resolves them. */
export async function releaseCloudRunApp(env: CloudRunEnv, app: CloudRunApp, vars: Record<string, string>): Promise<CloudRunRelease> {
  const service = await getService(env, app);
  if (!service) {
    throw new PilotError(`There is no Cloud Run service ${app.app} in ${env.region} to release.`, { hint: "The deploy step makes it: see the job's output above." });
  }
  const access = { added: [] as string[], removed: [] as string[] };
  if (!app.public) access.removed.push(...(await setInvokerAccess(env, app, false)).removed);

  const skipped = Object.keys(vars).filter((k) => RESERVED_ENV.includes(k)).sort();
  const kept = Object.fromEntries(Object.entries(vars).filter(([k]) => !RESERVED_ENV.includes(k)));
  const target: AppSecretsTarget = { project: env.project, stack: app.stack, stackId: app.stackId, appProject: app.appProject, app: app.app };
  let written = { refs: [] as Parameters<typeof withSecretEnv>[1], written: [] as string[], unchanged: [] as string[] };
  if (Object.keys(kept).length > 0) {
    env.progress?.(`writing ${Object.keys(kept).length} variables to Secret Manager`);
    try {
      written = await writeAppSecrets(env.secrets, target, kept, `serviceAccount:${await runtimeAccount(env, service)}`);
    } catch (err) {
      throw failure(`write the variables of ${app.appProject}/${app.app} to Secret Manager`, err);
    }
  }

  env.progress?.("routing all traffic to the new revision");
  const { service: served, revision } = await rollOut(env, app, written.refs);

  if (app.public) access.added.push(...(await setInvokerAccess(env, app, true)).added);

  let deleted: string[] = [];
  try {
    // After the new revision serves: the one before it may still have named them until now.
    deleted = await deleteAppSecrets(env.secrets, target, Object.keys(kept));
  } catch (err) {
    throw failure(`delete the unset variables of ${app.appProject}/${app.app} from Secret Manager`, err);
  }
  return {
    url: served.status?.url ?? undefined,
    revision,
    public: app.public,
    access,
    variables: { written: written.written, unchanged: written.unchanged, deleted, skipped },
  };
}

/**
 * A Cloud Run app's configuration in Secret Manager (issue 10): the entrypoint
 * Waypoint injects into an image fetches the app's config from the Waypoint
 * server's advertise address, which a Cloud Run service can neither reach nor
 * verify. So `pilot up` writes each variable the server holds for the app as
 * one secret, `pilot-<stack>_<project>_<app>_<VARIABLE>` (cloud-run-spec.ts),
 * labelled like the stack's other resources, from the user's machine with the
 * user's credentials; only the identity the app runs as may read them, and
 * the revision names each one, pinned to a version. The Pilot server's
 * account never touches them.
 *
 * A value goes in as a new version only when it differs from the newest one
 * (read back to compare: a digest in the secret's metadata would let anyone
 * who can list secrets test guesses against low-entropy values). Old versions
 * stay: the revisions that named them can still start. Values never appear in
 * a message Pilot makes, and a failed write is reported without the request.
 */
import type { secretmanager_v1 } from "googleapis/build/src/apis/secretmanager/v1.js";
import { PilotError } from "../../errors.js";
import { describeAction } from "../scaffold.js";
import { appSecretId, appSecretPrefix, withExactRole, type SecretRef } from "./cloud-run-spec.js";
import { googleError, isAlreadyExists, isConcurrentChange, isNotFound } from "./errors.js";
import { hasStackLabels, orGone, stackLabels } from "./shared.js";

export const APP_SECRET_TYPE = "gcp.secretmanager.secret";
/** The `pilot-key` label of every app secret (the app is in the id and in the annotations). */
export const APP_SECRET_KEY = "app-config";
export const SECRET_ACCESSOR_ROLE = "roles/secretmanager.secretAccessor";

export type SecretManager = secretmanager_v1.Secretmanager;

/** Which app's secrets, in which project. */
export interface AppSecretsTarget {
  project: string;
  stack: string;
  stackId: string;
  /** The Waypoint project and app. */
  appProject: string;
  app: string;
}

/** What a write did, by variable name (never values). */
export interface SecretsWritten {
  refs: SecretRef[];
  /** A new version was added (a new secret, or a changed value). */
  written: string[];
  unchanged: string[];
}

/** Runs `fn` over `items`, `width` at a time (a handful of variables, a few calls each). */
async function pool<T, R>(items: T[], width: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(width, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]!);
      }
    }),
  );
  return out;
}

/** Google's message of a failed call, and nothing else of it (the request held a value). */
function failed(action: string, err: unknown): PilotError {
  const g = googleError(err);
  return new PilotError(`${action}: ${g?.message ?? (err as Error)?.message ?? String(err)}`);
}

/** Read-modify-write of a secret's IAM policy with its etag, again when someone else wrote first. */
async function grantReader(sm: SecretManager, name: string, member: string, action: string): Promise<void> {
  for (let tries = 0; ; tries++) {
    try {
      const policy = (await sm.projects.secrets.getIamPolicy({ resource: name, "options.requestedPolicyVersion": 3 })).data;
      const change = withExactRole(policy, SECRET_ACCESSOR_ROLE, [member]);
      if (change.added.length === 0 && change.removed.length === 0) return;
      await sm.projects.secrets.setIamPolicy({ resource: name, requestBody: { policy: change.policy } });
      return;
    } catch (err) {
      if (!isConcurrentChange(err) || tries >= 4) throw failed(action, err);
    }
  }
}

/** The newest version's number and value, or undefined when there is none it can read (none yet, disabled, destroyed). */
async function newest(sm: SecretManager, name: string): Promise<{ version: string; value: string } | undefined> {
  try {
    const v = (await sm.projects.secrets.versions.access({ name: `${name}/versions/latest` })).data;
    return { version: v.name!.split("/").pop()!, value: Buffer.from(v.payload?.data ?? "", "base64").toString("utf8") };
  } catch (err) {
    const g = googleError(err);
    if (isNotFound(err) || g?.status === "FAILED_PRECONDITION") return undefined;
    throw err;
  }
}

/**
 * Writes each variable as its secret (created, or adopted when its labels say
 * it is this stack's), adds a version when the value changed, and lets
 * `reader` ("serviceAccount:...") read it. Returns the references the revision
 * takes.
 */
export async function writeAppSecrets(sm: SecretManager, target: AppSecretsTarget, vars: Record<string, string>, reader: string): Promise<SecretsWritten> {
  const tags = { stack: target.stack, stackId: target.stackId, key: APP_SECRET_KEY };
  const variables = Object.keys(vars).sort();
  // Every id is checked before anything is written.
  for (const v of variables) appSecretId(target.stack, target.appProject, target.app, v);
  const results = await pool(variables, 4, async (variable) => {
    const id = appSecretId(target.stack, target.appProject, target.app, variable);
    const name = `projects/${target.project}/secrets/${id}`;
    const action = describeAction("write", APP_SECRET_TYPE, id, target.project);
    let secret: secretmanager_v1.Schema$Secret | undefined;
    try {
      secret = await orGone(async () => (await sm.projects.secrets.get({ name })).data);
      if (!secret) {
        try {
          secret = (
            await sm.projects.secrets.create({
              parent: `projects/${target.project}`,
              secretId: id,
              requestBody: {
                replication: { automatic: {} },
                labels: stackLabels(tags),
                annotations: { "pilot-app": `${target.appProject}/${target.app}`, "pilot-variable": variable },
              },
            })
          ).data;
        } catch (err) {
          // Another run made it meanwhile: take it as found.
          if (!isAlreadyExists(err)) throw err;
          secret = (await sm.projects.secrets.get({ name })).data;
        }
      }
    } catch (err) {
      throw failed(action, err);
    }
    if (!hasStackLabels(secret.labels, tags)) {
      throw new PilotError(`${action}: a secret named ${id} already exists and does not belong to this stack.`, {
        hint: `Delete it (\`gcloud secrets delete ${id} --project ${target.project}\`) if nothing else uses it, then run \`pilot up\` again.`,
      });
    }
    let current: { version: string; value: string } | undefined;
    try {
      current = await newest(sm, name);
    } catch (err) {
      throw failed(action, err);
    }
    let version = current?.version;
    const changed = current === undefined || current.value !== vars[variable];
    if (changed) {
      try {
        const added = await sm.projects.secrets.addVersion({ parent: name, requestBody: { payload: { data: Buffer.from(vars[variable]!, "utf8").toString("base64") } } });
        version = added.data.name!.split("/").pop()!;
      } catch (err) {
        throw failed(action, err);
      }
    }
    await grantReader(sm, name, reader, action);
    return { variable, changed, ref: { variable, secretId: id, version: version! } };
  });
  return {
    refs: results.map((r) => r.ref),
    written: results.filter((r) => r.changed).map((r) => r.variable),
    unchanged: results.filter((r) => !r.changed).map((r) => r.variable),
  };
}

/**
 * The ids of the secrets labelled for `stack` whose id starts with `prefix`
 * (an app's, or the whole stack's), of lineage `stackId` when given. Both must
 * hold: a secret merely named like ours, or labelled for a same-named stack
 * elsewhere, is left alone.
 */
export async function secretIds(sm: SecretManager, opts: { project: string; stack: string; stackId?: string; prefix: string }): Promise<string[]> {
  const ids: string[] = [];
  let pageToken: string | undefined;
  const filter = `labels.pilot-stack=${opts.stack}${opts.stackId ? ` AND labels.pilot-stack-id=${opts.stackId}` : ""}`;
  do {
    const res = (await sm.projects.secrets.list({ parent: `projects/${opts.project}`, filter, pageToken })).data;
    for (const s of res.secrets ?? []) {
      const id = s.name!.split("/").pop()!;
      if (id.startsWith(opts.prefix) && s.labels?.["pilot-stack"] === opts.stack && (!opts.stackId || s.labels?.["pilot-stack-id"] === opts.stackId)) ids.push(id);
    }
    pageToken = res.nextPageToken ?? undefined;
  } while (pageToken);
  return ids.sort();
}

/** Deletes secrets by id (with every version); one already gone counts as deleted. */
export async function deleteSecrets(sm: SecretManager, project: string, ids: string[]): Promise<void> {
  await pool(ids, 4, async (id) => {
    try {
      await orGone(() => sm.projects.secrets.delete({ name: `projects/${project}/secrets/${id}` }));
    } catch (err) {
      throw failed(describeAction("delete", APP_SECRET_TYPE, id, project), err);
    }
  });
}

/** Deletes the app's secrets for variables not in `keep` (all of them without); returns the variables deleted. */
export async function deleteAppSecrets(sm: SecretManager, target: AppSecretsTarget, keep: string[] = []): Promise<string[]> {
  const prefix = appSecretPrefix(target.stack, target.appProject, target.app);
  const ids = (await secretIds(sm, { project: target.project, stack: target.stack, stackId: target.stackId, prefix })).filter((id) => !keep.includes(id.slice(prefix.length)));
  await deleteSecrets(sm, target.project, ids);
  return ids.map((id) => id.slice(prefix.length));
}

/** `pilot teardown`: deletes every app secret of the stack (of any lineage when `stackId` is not given); returns their ids. */
export async function deleteStackSecrets(sm: SecretManager, opts: { project: string; stack: string; stackId?: string }): Promise<string[]> {
  const ids = await secretIds(sm, { ...opts, prefix: appSecretPrefix(opts.stack) });
  await deleteSecrets(sm, opts.project, ids);
  return ids;
}

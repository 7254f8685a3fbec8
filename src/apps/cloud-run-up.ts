/**
 * What `pilot up` does for a Cloud Run app around its Waypoint job: after a
 * job that deployed it, Pilot's own release (src/providers/gcp/cloud-run-release.ts)
 * with the app's variables as the Waypoint server holds them; after a failed
 * one, making sure a private app is not left public, and saying why a job
 * failed where Pilot knows the cause. Kept apart from the command so tests can
 * run it with a stand-in server session against the GCP fake.
 */
import type { AppState, StackState } from "../state/schema.js";
import { DATABASE_VARIABLE_NAMES } from "../providers/database-url.js";
import type { CloudRunApp, CloudRunEnv, CloudRunRelease } from "../providers/gcp/cloud-run-release.js";
import { listConfig } from "./app-config.js";
import { regenerateCommand, type AppRef } from "./app-ref.js";
import type { ServerSession } from "./server-session.js";

/** The libpq variables that are not secrets (where the database is, and as whom): everything else may be. */
const PLAIN_DATABASE_VARIABLES: readonly string[] = DATABASE_VARIABLE_NAMES.filter((n) => n !== "DATABASE_URL" && n !== "PGPASSWORD");

export interface CloudRunUpOptions {
  state: StackState;
  stack: string;
  ref: AppRef;
  record: AppState;
  /** Every value read from the server goes here first (the renderer's redaction list). */
  addSecrets(values: string[]): void;
  /** Made on first use, so a test passes its own. */
  env: () => Promise<CloudRunEnv>;
}

export function cloudRunApp(o: Pick<CloudRunUpOptions, "state" | "stack" | "ref" | "record">): CloudRunApp {
  // An app recorded before Pilot released Cloud Run apps has no `public`: private, the safe side.
  return { stack: o.stack, stackId: o.state.lineage, appProject: o.ref.project, app: o.ref.app, public: o.record.public === true };
}

/** Reads the app's variables from the server and releases it. */
export async function releaseAfterJob(session: Pick<ServerSession, "waypoint">, o: CloudRunUpOptions): Promise<CloudRunRelease> {
  const vars = await listConfig(session as ServerSession, o.ref.project, o.ref.app);
  o.addSecrets(Object.entries(vars).filter(([k]) => !PLAIN_DATABASE_VARIABLES.includes(k)).map(([, v]) => v));
  const { releaseCloudRunApp } = await import("../providers/gcp/cloud-run-release.js");
  return releaseCloudRunApp(await o.env(), cloudRunApp(o), vars);
}

/** After a failed job: a private app loses any public member of its service's policy. Returns the members removed. */
export async function secureAfterFailure(o: CloudRunUpOptions): Promise<string[]> {
  const { secureCloudRunApp } = await import("../providers/gcp/cloud-run-release.js");
  return (await secureCloudRunApp(await o.env(), cloudRunApp(o))).removed;
}

/** Waypoint's google-cloud-run releaser, failing where the server's account may not set IAM policies (releaser.go's wording). */
const WAYPOINT_RELEASER_DENIED = /Unable to set no auth policy|run\.services\.setIamPolicy/;
/** Waypoint's deploy step, when the new revision never became ready (deployment.go's wording). */
const REVISION_NOT_READY = /Cloud Run service failed to get ready/;

/**
 * What to do about a failed job of a Cloud Run app, where the output shows a
 * cause Pilot knows (matched only to choose the advice; the job's own lines
 * are shown too). Undefined otherwise.
 */
export function cloudRunFailureHint(o: Pick<CloudRunUpOptions, "ref" | "record" | "stack"> & { region: string }, phase: string, lines: string[]): string | undefined {
  const text = lines.join("\n");
  const r = o.record;
  if (phase === "release" && WAYPOINT_RELEASER_DENIED.test(text)) {
    return (
      `This app's waypoint.hcl was written before Pilot released Cloud Run apps itself: its google-cloud-run release step makes ` +
      `every service public, which the server's account (roles/run.developer) may no longer do. Regenerate it, commit it and run \`pilot up\` again:\n` +
      `  ${regenerateCommand(o.stack, r)}${r.public ? "" : "\n(add --public only if anyone on the internet may call it)"}`
    );
  }
  if (phase === "deploy" && REVISION_NOT_READY.test(text)) {
    return (
      "Waypoint's deploy starts the new revision before Pilot gives it the app's variables (Pilot adds them as it releases), " +
      "so the app must start and listen on its port without them (connect to the database on first use, not at start-up). " +
      `Its logs: \`gcloud run services logs read ${o.ref.app} --region ${o.region}\`.`
    );
  }
  return undefined;
}

/**
 * `pilot teardown`: deletes the stack's app secrets (of any lineage without `stackId`). A project whose
 * Secret Manager API is off holds none of Pilot's (`pilot up` needs it on to write any).
 */
export async function deleteStackAppSecrets(env: NodeJS.ProcessEnv, o: { project: string; region: string; stack: string; stackId?: string; progress?: (m: string) => void }): Promise<string[]> {
  const { createCloudRunEnv } = await import("../providers/gcp/cloud-run-release.js");
  const { deleteStackSecrets } = await import("../providers/gcp/app-secrets.js");
  const { disabledService } = await import("../providers/gcp/errors.js");
  const { PilotError } = await import("../errors.js");
  const cr = createCloudRunEnv(env, o.project, o.region);
  o.progress?.("deleting the apps' secrets in Secret Manager");
  try {
    return await deleteStackSecrets(cr.secrets, { project: o.project, stack: o.stack, stackId: o.stackId });
  } catch (err) {
    if (disabledService(err)) return [];
    throw new PilotError(`Could not delete the apps' secrets of stack "${o.stack}" in Secret Manager: ${(err as Error).message}`, {
      hint: "Nothing else was deleted yet; run `pilot teardown` again.",
    });
  }
}

/** `pilot destroy`: deletes one Cloud Run app's secrets; returns the variables deleted. */
export async function deleteAppSecretsOf(env: NodeJS.ProcessEnv, o: { project: string; region: string; stack: string; stackId: string; ref: AppRef }): Promise<string[]> {
  const { createCloudRunEnv } = await import("../providers/gcp/cloud-run-release.js");
  const { deleteAppSecrets } = await import("../providers/gcp/app-secrets.js");
  const { disabledService } = await import("../providers/gcp/errors.js");
  const cr = createCloudRunEnv(env, o.project, o.region);
  try {
    return await deleteAppSecrets(cr.secrets, { project: o.project, stack: o.stack, stackId: o.stackId, appProject: o.ref.project, app: o.ref.app });
  } catch (err) {
    if (disabledService(err)) return [];
    throw err;
  }
}

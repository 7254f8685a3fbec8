/**
 * `PROJECT/APP`, the way every app command names its app, checked with the
 * same rule `pilot new app` applies to names.
 */
import { UsageError } from "../errors.js";
import type { AppState, StackState } from "../state/schema.js";
import { appKey, checkAppName } from "./names.js";

export interface AppRef {
  project: string;
  app: string;
  key: string;
}

export function parseAppRef(value: string | undefined, command: string): AppRef {
  if (!value) throw new UsageError(`pilot ${command} needs the app as PROJECT/APP.`, `Run \`pilot ${command} PROJECT/APP\`.`);
  const parts = value.split("/");
  if (parts.length !== 2) throw new UsageError(`"${value}" is not PROJECT/APP.`, `Run \`pilot ${command} PROJECT/APP\` (e.g. shop/web).`);
  const project = checkAppName("project", parts[0]!);
  const app = checkAppName("app", parts[1]!);
  return { project, app, key: appKey(project, app) };
}

/** The app as `pilot new app` recorded it, if it did (an app made another way has no record). */
export function appRecord(state: StackState, ref: AppRef): AppState | undefined {
  return state.apps?.[ref.key];
}

/**
 * The `pilot new app` command that writes the app's waypoint.hcl again from its record (same
 * answers, `--force`): what Pilot tells the user to run when a file written by an earlier
 * Pilot cannot do what is asked of it.
 */
export function regenerateCommand(stack: string, r: AppState): string {
  return [
    "pilot new app", `--name ${stack}`, `--project ${r.project}`, `--app ${r.app}`, `--target ${r.target}`, `--port ${r.port}`, `--builder ${r.builder}`,
    ...(r.withDb ? ["--with-db"] : []), ...(r.public ? ["--public"] : []), `--dir ${r.dir}`, "--force",
  ].join(" ");
}

/**
 * An app's configuration on the Waypoint server (`waypoint config`), which
 * the entrypoint Waypoint injects into the app hands it at run time. Values
 * go in on stdin (`config set` reads KEY=VALUE lines from a pipe), never in
 * argv, and are never printed unless asked for.
 */
import { UsageError } from "../errors.js";
import type { DatabaseInfo } from "../providers/types.js";
import { databaseVariables } from "../providers/database-url.js";
import { expectOk, type ServerSession } from "./server-session.js";

const KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** An environment variable's name as Pilot takes it: letters, digits, underscores, no leading digit. */
export function isConfigKey(key: string): boolean {
  return KEY.test(key);
}

export function checkConfigKey(key: string): string {
  if (!isConfigKey(key)) throw new UsageError(`"${key}" is not a variable name.`, "Use letters, digits and underscores, not starting with a digit (e.g. API_URL).");
  return key;
}

export function checkConfigValue(key: string, value: string): string {
  // `config set` reads one variable per line from stdin.
  if (/[\r\n]/.test(value)) throw new UsageError(`The value of ${key} spans lines, which Waypoint's config cannot hold.`);
  return value;
}

const scope = (project: string, app: string) => ["-scope=app", `-project=${project}`, `-app=${app}`];

export async function setConfig(session: ServerSession, project: string, app: string, vars: Record<string, string>): Promise<void> {
  const input = Object.entries(vars).map(([k, v]) => `${checkConfigKey(k)}=${checkConfigValue(k, v)}\n`).join("");
  if (!input) return;
  expectOk(await session.waypoint(["config", "set", ...scope(project, app)], { input }), "`waypoint config set`");
}

export async function unsetConfig(session: ServerSession, project: string, app: string, keys: string[]): Promise<void> {
  if (keys.length === 0) return;
  expectOk(await session.waypoint(["config", "delete", ...scope(project, app), ...keys.map(checkConfigKey)]), "`waypoint config delete`");
}

/** The app's variables as the server resolves them for it (app scope over project and global). */
export async function listConfig(session: ServerSession, project: string, app: string): Promise<Record<string, string>> {
  const r = expectOk(await session.waypoint(["config", "get", "-json", `-project=${project}`, `-app=${app}`]), "`waypoint config get`");
  const text = r.stdout.trim();
  return text ? (JSON.parse(text) as Record<string, string>) : {};
}

/** DATABASE_URL and libpq's PG* variables for an app given the stack's database (src/providers/database-url.ts). */
export function databaseConfig(db: DatabaseInfo, password: string): Record<string, string> {
  return databaseVariables(db, password);
}

/**
 * What `pilot new app` accepts as names, targets and builders, checked before
 * anything is created. One rule for project and app names fits every place
 * they end up: Waypoint refs, Docker container names, ECR repository paths and
 * Cloud Run service names (lowercase letters, digits, hyphens, a letter first).
 */
import { UsageError } from "../errors.js";
import type { AppState, ProviderName } from "../state/schema.js";

export type AppTarget = AppState["target"];
export type AppBuilder = AppState["builder"];

export const TARGETS: readonly AppTarget[] = ["docker", "ecs", "cloud-run"];
export const BUILDERS: readonly AppBuilder[] = ["docker", "pack"];

/** Up to 30 characters: Cloud Run service names allow 49, and "pilot-<stack>/<project>/" must fit ECR's 256. */
const NAME = /^[a-z](?:[a-z0-9-]{0,28}[a-z0-9])?$/;

/** Checks a project or app name (`what` is the flag, e.g. "project"). */
export function checkAppName(what: "project" | "app", value: string): string {
  if (!NAME.test(value)) {
    throw new UsageError(
      `--${what} "${value}" is not a valid name.`,
      "Use 1-30 lowercase letters, digits or hyphens, starting with a letter and not ending with a hyphen (e.g. shop, web-api).",
    );
  }
  return value;
}

/** The key of an app in state and in every command: "PROJECT/APP". */
export function appKey(project: string, app: string): string {
  return `${project}/${app}`;
}

/** Where each provider's apps can run: beside the server always, and on the provider's own container service. */
export const TARGETS_BY_PROVIDER: Record<ProviderName, readonly AppTarget[]> = {
  local: ["docker"],
  aws: ["ecs", "docker"],
  gcp: ["cloud-run", "docker"],
};

/** The target a stack's apps get when none is asked for: its provider's container service, or Docker locally. */
export function defaultTarget(provider: ProviderName): AppTarget {
  return TARGETS_BY_PROVIDER[provider][0]!;
}

export function checkTarget(provider: ProviderName, value: string): AppTarget {
  if (!(TARGETS as readonly string[]).includes(value)) {
    throw new UsageError(`--target "${value}" is not one of ${TARGETS.join(", ")}.`);
  }
  const allowed = TARGETS_BY_PROVIDER[provider];
  if (!allowed.includes(value as AppTarget)) {
    throw new UsageError(`--target ${value} does not run on a ${provider} stack.`, `Use one of: ${allowed.join(", ")}.`);
  }
  return value as AppTarget;
}

export function checkBuilder(value: string): AppBuilder {
  if (!(BUILDERS as readonly string[]).includes(value)) {
    throw new UsageError(`--builder "${value}" is not one of ${BUILDERS.join(", ")}.`);
  }
  return value as AppBuilder;
}

export function checkPort(value: string | number): number {
  const n = typeof value === "number" ? value : /^\d+$/.test(value.trim()) ? Number(value.trim()) : NaN;
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new UsageError(`--port "${value}" is not a port number (1-65535).`);
  return n;
}

/**
 * What `pilot up` hands an ECS app's deploy as its environment (issue 10): the
 * app's waypoint.hcl declares a `map(string)` variable for the aws-ecs
 * plugin's `secrets` (src/apps/hcl.ts), and `pilot up` sets it to every
 * parameter in the app's SSM folder, with `waypoint up -var=NAME=VALUE`.
 *
 * The value is an HCL object expression: Waypoint stores a -var value as a
 * string, and when the variable's declared type is not primitive the runner
 * parses that string as HCL before converting it to the type
 * (internal/config/variables/variables.go, EvaluateVariables). The -var
 * travels in the job itself (internal/client/job.go), so a remote job's
 * runner gets it. It holds parameter names, never values, so it may sit in
 * argv and in the job's record on the server.
 *
 * Pure functions, no SDK (the unit tier tests them), and `appSecrets`, which
 * lists the folder through the SSM provider module, loaded only when called.
 */
import type { SSMClient } from "@aws-sdk/client-ssm";
import type { AppParametersTarget } from "../providers/aws/app-parameters.js";
import { appParameterPath } from "../providers/aws/app-names.js";
import { isConfigKey } from "./app-config.js";
import { hclString } from "./hcl-writer.js";

/**
 * Variable name => parameter name, for each parameter directly in `folder` whose last
 * part is a variable name (what `pilot env set` and `pilot up` write); sorted by name,
 * so the same folder always gives the same flag. Anything else there (a deeper path,
 * a name no environment variable could have) is left out, not guessed at.
 */
export function secretsFromParameterNames(folder: string, names: Iterable<string>): Record<string, string> {
  const secrets: Record<string, string> = {};
  for (const name of [...new Set(names)].sort()) {
    if (!name.startsWith(folder)) continue;
    const variable = name.slice(folder.length);
    if (isConfigKey(variable)) secrets[variable] = name;
  }
  return secrets;
}

/** The map as one line of HCL: `{"API_KEY" = "/pilot/s/p/a/API_KEY", ...}`, every key and value a quoted, escaped string. */
export function hclObject(map: Record<string, string>): string {
  const entries = Object.entries(map).map(([k, v]) => `${hclString(k)} = ${hclString(v)}`);
  return `{${entries.join(", ")}}`;
}

/** `-var=pilot_secrets_web={...}`, one argv word (no shell sees it: the session passes argv through "$@"). */
export function secretsVarFlag(variable: string, secrets: Record<string, string>): string {
  return `-var=${variable}=${hclObject(secrets)}`;
}

/**
 * `pilot up`'s value of an ECS app's secrets variable: every parameter in the app's folder,
 * by variable name, and the `-var` that sets it. The whole folder every time, so a variable
 * set or unset since the last deploy is in or out of this one. `written` (what `pilot up`
 * wrote just before) counts even if SSM's listing, which is eventually consistent, lags.
 */
export async function appSecrets(
  ssm: SSMClient,
  target: AppParametersTarget & { variable: string; written?: string[] },
): Promise<{ secrets: Record<string, string>; flag: string }> {
  const { appParameterNames } = await import("../providers/aws/app-parameters.js");
  const listed = await appParameterNames(ssm, target);
  const secrets = secretsFromParameterNames(appParameterPath(target.stack, target.project, target.app), [...(target.written ?? []), ...listed]);
  return { secrets, flag: secretsVarFlag(target.variable, secrets) };
}

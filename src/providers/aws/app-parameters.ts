/**
 * An ECS app's environment in SSM Parameter Store (issue 10): the entrypoint
 * Waypoint injects into an image cannot reach the Waypoint server from an ECS
 * task, so an ECS app's variables are SecureString parameters under
 * `/pilot/<stack>/<project>/<app>/`, written from the user's machine with the
 * user's credentials: DATABASE_URL and PG* by `pilot up` (with --with-db), the
 * others by `pilot env set`. `pilot up` passes the folder's parameter names to
 * the job as the app's secrets variable (src/apps/ecs-secrets.ts), which the
 * app's waypoint.hcl gives the aws-ecs plugin's `secrets`; ECS reads them with
 * the task's execution role when a task starts. The Pilot server's role never
 * touches them. `pilot destroy` deletes an app's database parameters (`pilot
 * up` writes them again; `pilot env` values stay, as the server's
 * configuration does for other targets) and `pilot teardown` every parameter
 * under `/pilot/<stack>/`.
 *
 * The SSM client is imported here and only here, and this module is loaded
 * lazily, so `pilot --help` loads no AWS SDK.
 */
import {
  AddTagsToResourceCommand,
  DeleteParametersCommand,
  DescribeParametersCommand,
  GetParametersCommand,
  PutParameterCommand,
  SSMClient,
} from "@aws-sdk/client-ssm";
import type { StackTags } from "../../engine/types.js";
import { appParameterPath, stackParameterPath } from "./app-names.js";
import { attempt, describeAction, isErrorCode, stackTagList } from "./shared.js";
import { clientConfig } from "./client-config.js";

export const PARAMETER_TYPE = "aws.ssm.parameter";

/** Configured as every AWS client is (client-config.ts). */
export function createSsmClient(region: string): SSMClient {
  return new SSMClient(clientConfig(region));
}

/** The tag key of an app's parameters ("app/shop/web", as its ECR repository's). */
export function parameterTagKey(project: string, app: string): string {
  return `app/${project}/${app}`;
}

export interface AppParametersTarget {
  region: string;
  stack: string;
  project: string;
  app: string;
}

/**
 * Writes each variable as a SecureString parameter `<app folder><NAME>` (AWS's own
 * `aws/ssm` key), replacing what is there; returns the names written. A new one is
 * tagged in its create call; PutParameter refuses Tags together with Overwrite, so
 * an existing one is overwritten and then tagged with AddTagsToResource.
 * Values never appear in an error message Pilot makes.
 */
export async function putAppParameters(
  ssm: SSMClient,
  target: AppParametersTarget & { stackId: string; values: Record<string, string>; /** The command, for the description. */ writer?: string },
): Promise<string[]> {
  const folder = appParameterPath(target.stack, target.project, target.app);
  const tags: StackTags = { stack: target.stack, stackId: target.stackId, key: parameterTagKey(target.project, target.app) };
  const written: string[] = [];
  for (const [variable, value] of Object.entries(target.values)) {
    const name = `${folder}${variable}`;
    const put = {
      Name: name,
      Value: value,
      Type: "SecureString" as const,
      Description: `${variable} of app ${target.project}/${target.app} of Pilot stack ${target.stack}, written by ${target.writer ?? "pilot up"}`,
    };
    await attempt(describeAction("write", PARAMETER_TYPE, name, target.region), async () => {
      try {
        await ssm.send(new PutParameterCommand({ ...put, Tags: stackTagList(tags) }));
      } catch (err) {
        if (!isErrorCode(err, "ParameterAlreadyExists")) throw err;
        await ssm.send(new PutParameterCommand({ ...put, Overwrite: true }));
        await ssm.send(new AddTagsToResourceCommand({ ResourceType: "Parameter", ResourceId: name, Tags: stackTagList(tags) }));
      }
    });
    written.push(name);
  }
  return written;
}

/** The names of the parameters under a folder ("/pilot/s/"), at any depth; names only, never values. */
export async function parametersUnder(ssm: SSMClient, folder: string, region: string): Promise<string[]> {
  const names: string[] = [];
  let NextToken: string | undefined;
  do {
    const page = await attempt(describeAction("list", PARAMETER_TYPE, `${folder}*`, region), () =>
      ssm.send(new DescribeParametersCommand({ ParameterFilters: [{ Key: "Path", Option: "Recursive", Values: [folder.replace(/\/$/, "")] }], NextToken })),
    );
    names.push(...(page.Parameters ?? []).map((p) => p.Name!));
    NextToken = page.NextToken;
  } while (NextToken);
  // The filter is a hierarchy ("/pilot/s" holds "/pilot/s/x", not "/pilot/s2/x"); checked again here all the same.
  return names.filter((n) => n.startsWith(folder)).sort();
}

/** The parameters directly in an app's folder (names only): what `pilot up` passes and `pilot env list` shows. */
export async function appParameterNames(ssm: SSMClient, target: AppParametersTarget): Promise<string[]> {
  const folder = appParameterPath(target.stack, target.project, target.app);
  return (await parametersUnder(ssm, folder, target.region)).filter((n) => !n.slice(folder.length).includes("/"));
}

/** The decrypted values of the named parameters (ten per call, the API's limit), by name; only for `pilot env list --show`. */
export async function parameterValues(ssm: SSMClient, names: string[], region: string): Promise<Record<string, string>> {
  const values: Record<string, string> = {};
  for (let i = 0; i < names.length; i += 10) {
    const batch = names.slice(i, i + 10);
    const res = await attempt(describeAction("read", PARAMETER_TYPE, batch.join(", "), region), () =>
      ssm.send(new GetParametersCommand({ Names: batch, WithDecryption: true })),
    );
    for (const p of res.Parameters ?? []) values[p.Name!] = p.Value ?? "";
  }
  return values;
}

/**
 * Deletes the named parameters (ten per call, the API's limit); one already gone counts
 * as deleted. Returns the names that were not there.
 */
export async function deleteParameters(ssm: SSMClient, names: string[], region: string): Promise<string[]> {
  const missing: string[] = [];
  for (let i = 0; i < names.length; i += 10) {
    const batch = names.slice(i, i + 10);
    // Names that do not exist come back as InvalidParameters, not as an error: gone is gone.
    const res = await attempt(describeAction("delete", PARAMETER_TYPE, batch.join(", "), region), () => ssm.send(new DeleteParametersCommand({ Names: batch })));
    missing.push(...(res.InvalidParameters ?? []));
  }
  return missing;
}

/**
 * Deletes an app's parameters (`only`: those of these variables, e.g. the database's for
 * `pilot destroy`; else every one); returns the names deleted.
 */
export async function deleteAppParameters(ssm: SSMClient, target: AppParametersTarget, only?: readonly string[]): Promise<string[]> {
  const folder = appParameterPath(target.stack, target.project, target.app);
  const names = (await parametersUnder(ssm, folder, target.region)).filter((n) => !only || only.includes(n.slice(folder.length)));
  await deleteParameters(ssm, names, target.region);
  return names;
}

/** `pilot teardown`: deletes every parameter under `/pilot/<stack>/`; returns their names. */
export async function deleteStackParameters(ssm: SSMClient, opts: { region: string; stack: string }): Promise<string[]> {
  const names = await parametersUnder(ssm, stackParameterPath(opts.stack), opts.region);
  await deleteParameters(ssm, names, opts.region);
  return names;
}

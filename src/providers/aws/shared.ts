/**
 * Helpers every AWS resource kind shares: stack tags and tag filters, error
 * codes, and the provider-neutral scaffold (src/providers/scaffold.ts) adapted
 * to AWS: not-found by error code, and waits whose timeouts say AWS may still
 * finish.
 */
import { createHash } from "node:crypto";
import type { Filter, Tag, TagSpecification, ResourceType } from "@aws-sdk/client-ec2";
import type { StackTags } from "../../engine/types.js";
import { PilotError } from "../../errors.js";
import * as scaffold from "../scaffold.js";
import type { PollEnv, RetryNotFoundOptions, VisibilityOptions, WaitCheck, WaitOptions } from "../scaffold.js";
import type { AwsClients } from "./clients.js";

export { actions, attempt, createOrAdopt, describeAction, firstOwned, formatElapsed, sameSet, setDelta } from "../scaffold.js";
export type { WaitCheck, WaitOptions } from "../scaffold.js";

/** What each kind is built with: the shared clients, the region, and wait tuning for tests. */
export interface AwsKindEnv extends PollEnv {
  clients: AwsClients;
  region: string;
}

export const TAG_STACK = "pilot:stack";
export const TAG_STACK_ID = "pilot:stack-id";
export const TAG_KEY = "pilot:key";

/** "pilot-<stack>-<key>": the console-friendly Name and, where a kind needs one, its name. */
export function resourceName(tags: StackTags): string {
  return `pilot-${tags.stack}-${tags.key}`;
}

/** The three stack tags plus Name, as AWS Key/Value pairs (EC2, RDS and IAM use the same shape). */
export function stackTagList(tags: StackTags): { Key: string; Value: string }[] {
  return [
    { Key: TAG_STACK, Value: tags.stack },
    { Key: TAG_STACK_ID, Value: tags.stackId },
    { Key: TAG_KEY, Value: tags.key },
    { Key: "Name", Value: resourceName(tags) },
  ];
}

/** EC2 TagSpecifications, so a resource is tagged in the same call that creates it (no untagged window). */
export function tagSpecs(tags: StackTags, ...types: ResourceType[]): TagSpecification[] {
  return types.map((ResourceType) => ({ ResourceType, Tags: stackTagList(tags) }));
}

/** EC2 Describe* filters matching one node of one stack lineage. */
export function tagFilters(tags: StackTags): Filter[] {
  return [
    { Name: `tag:${TAG_STACK}`, Values: [tags.stack] },
    { Name: `tag:${TAG_STACK_ID}`, Values: [tags.stackId] },
    { Name: `tag:${TAG_KEY}`, Values: [tags.key] },
  ];
}

/** The value of one tag in an AWS tag list. */
export function tagValue(list: Tag[] | { Key?: string; Value?: string }[] | undefined, key: string): string | undefined {
  return list?.find((t) => t.Key === key)?.Value;
}

/** True when a tag list carries this node's stack, lineage and key. */
export function hasStackTags(list: { Key?: string; Value?: string }[] | undefined, tags: StackTags): boolean {
  return (
    tagValue(list, TAG_STACK) === tags.stack &&
    tagValue(list, TAG_STACK_ID) === tags.stackId &&
    tagValue(list, TAG_KEY) === tags.key
  );
}

/**
 * The service's error code, looking through PilotError wrappers. SDK v3 puts
 * it in `name` (EC2: "InvalidVpcID.NotFound"; RDS: "DBInstanceNotFoundFault";
 * IAM: "NoSuchEntityException"), older shapes in `Code`/`code`.
 */
export function errorCode(err: unknown): string | undefined {
  let e: any = err;
  for (let depth = 0; e && depth < 5; depth++) {
    if (!(e instanceof PilotError)) {
      const code = e.Code ?? e.code ?? e.name;
      if (typeof code === "string" && code !== "Error") return code;
    }
    e = e.cause;
  }
  return undefined;
}

/** Drops the "Fault"/"Exception" suffix so model names and wire codes compare equal. */
function normalise(code: string): string {
  return code.replace(/(Fault|Exception)$/, "");
}

/** True when the error's code is one of the given codes (with or without a Fault/Exception suffix). */
export function isErrorCode(err: unknown, ...codes: string[]): boolean {
  const code = errorCode(err);
  if (!code) return false;
  const have = normalise(code);
  return codes.some((c) => normalise(c) === have);
}

/** Short stable hash (hex) of a text, stored in a tag so drift is seen without a second read call. */
export function shortHash(text: string): string {
  return createHash("sha256").update(text).digest("hex").slice(0, 16);
}

/** Runs `fn`; an error with one of the not-found `codes` yields undefined (read) or is swallowed (delete). */
export function orGone<T>(codes: readonly string[], fn: () => Promise<T>): Promise<T | undefined> {
  return scaffold.orGone((err) => isErrorCode(err, ...codes), fn);
}

/** The shared poller (src/providers/scaffold.ts), saying that AWS may still finish what timed out. */
export function waitFor<T>(env: AwsKindEnv, opts: WaitOptions, check: () => Promise<WaitCheck<T>>): Promise<T | undefined> {
  return scaffold.waitFor(env, { cloud: "AWS", ...opts }, check);
}

/** The shared "just created, not visible yet" read retry (scaffold.untilVisible), saying that AWS may still finish it. */
export function untilVisible<T>(env: PollEnv, what: string, read: () => Promise<T | undefined>, opts: VisibilityOptions = {}): Promise<T> {
  return scaffold.untilVisible(env, what, read, { cloud: "AWS", ...opts });
}

/**
 * Runs a call acting on a resource just created, retrying it while it fails
 * with one of the not-found `codes` (or as `notFound` tells; scaffold.retryNotFound):
 * AWS is eventually consistent, so AttachInternetGateway, AssociateAddress or
 * AuthorizeSecurityGroupIngress right after the create may not see it yet.
 */
export function retryNotFound<T>(
  env: PollEnv,
  notFound: readonly string[] | ((err: unknown) => boolean),
  fn: () => Promise<T>,
  opts?: RetryNotFoundOptions,
): Promise<T> {
  const isNotFound = typeof notFound === "function" ? notFound : (err: unknown) => isErrorCode(err, ...notFound);
  return scaffold.retryNotFound(env, isNotFound, fn, opts);
}

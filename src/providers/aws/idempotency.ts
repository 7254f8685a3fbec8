/**
 * EC2 create calls that take a ClientToken (RunInstances, CreateRouteTable),
 * sent with a token that may be an interrupted run's (issue 8, point 3). EC2
 * keeps a token for at least a day after its resource is gone: sent again it
 * returns that dead resource, or refuses with IdempotentParameterMismatch when
 * anything in the request changed. Either way the token is retired (the engine
 * writes a new one ahead) and the call is sent once more with the new token,
 * so a stack is never stranded in "creating".
 */
import { randomBytes } from "node:crypto";
import type { CreateContext } from "../../engine/types.js";
import { isErrorCode } from "./shared.js";

/** How a kind sends its create and judges the answer. */
export interface TokenedCreate<T> {
  /** The create call with this ClientToken. */
  send(token: string): Promise<T>;
  /** Why the answer is a dead resource ("returned instance i-1, which is terminated"), or undefined when it is usable. */
  deadAnswer?(answer: T): Promise<string | undefined> | string | undefined;
  /**
   * On IdempotentParameterMismatch: a live resource the old token made (it
   * is ours, with an older request), to keep instead of making a second one.
   */
  liveFromToken?(token: string): Promise<T | undefined>;
}

/** A new token when the engine gave no way to retire one (tests that call create() directly). */
function fallbackToken(ctx: CreateContext): string {
  return `${ctx.token.slice(0, 40)}-${randomBytes(4).toString("hex")}`;
}

/** Retires ctx's token through the engine (written ahead) and says so in the progress line. */
async function retire(ctx: CreateContext, why: string): Promise<string> {
  ctx.progress(`the earlier attempt's idempotency token ${why}; retrying with a new token`);
  return ctx.retireToken ? ctx.retireToken() : fallbackToken(ctx);
}

/**
 * Sends a tokened create; when the token turns out to belong to a dead
 * resource or to another request, retires it and sends the create again with
 * a new one (once: a new token cannot be stale).
 */
export async function sendWithToken<T>(ctx: CreateContext, call: TokenedCreate<T>): Promise<T> {
  let answer: T;
  try {
    answer = await call.send(ctx.token);
  } catch (err) {
    if (!isErrorCode(err, "IdempotentParameterMismatch")) throw err;
    const live = await call.liveFromToken?.(ctx.token);
    if (live !== undefined) return live;
    return call.send(await retire(ctx, "was used for a different request"));
  }
  const dead = await call.deadAnswer?.(answer);
  if (!dead) return answer;
  return call.send(await retire(ctx, dead));
}

/**
 * EC2 create calls that take no ClientToken and no unique name (CreateVpc,
 * CreateInternetGateway, AllocateAddress), made safe against a lost answer
 * (issue 8, point 10). When such a call takes effect but its answer never
 * arrives (a dropped connection, a timeout), the SDK sends it again and EC2
 * makes a second resource: tagged as this node, untracked, and billed.
 *
 * So after a create the SDK had to retry (`$metadata.attempts > 1`), the
 * resources carrying this node's own tags (stack, lineage and node key) are
 * listed, the one just returned is kept (the create goes on with it), and
 * every other one is deleted with a warning that names it. A create answered
 * at its first attempt cannot have made a second resource, so the normal path
 * costs no call at all; a retried one costs one listing (more only while EC2
 * does not list the new resource yet) and one delete per duplicate.
 *
 * The kinds whose create the cloud itself refuses to repeat (a security
 * group's name, a subnet's range, a key pair's or IAM object's name) adopt
 * what the lost answer made through createOrAdopt instead; the tokened ones
 * (RunInstances, CreateRouteTable) rely on EC2's ClientToken (idempotency.ts).
 */
import type { CreateContext } from "../../engine/types.js";
import type { PollEnv } from "../scaffold.js";
import { attempt, untilVisible } from "./shared.js";

/** How long to wait for a listing by tags to show the resource just created before giving up on the check. */
export const LISTING_TIMEOUT_MS = 30_000;

/** An untokened create and what the duplicate check needs around it. */
export interface UntokenedCreate<T> {
  /** For error messages: `create aws.ec2.vpc "vpc" in us-east-1`. */
  action: string;
  /** The kind's type, named in the warnings ("aws.ec2.vpc"). */
  type: string;
  /** The create call (its answer's $metadata says how many attempts the SDK made). */
  send(): Promise<T>;
  /** The id of the resource the answer names. */
  idOf(answer: T): string;
  /** Ids of every resource that carries this node's own tags (stack, lineage and key), listed now. */
  listOwn(): Promise<string[]>;
  /** Deletes a duplicate (detaching or disassociating it first where needed); already gone is success. */
  remove(id: string): Promise<void>;
}

/** How many attempts the SDK made for an answer (1 when it does not say, e.g. a mocked client). */
export function attemptsOf(answer: unknown): number {
  const attempts = (answer as { $metadata?: { attempts?: number } } | undefined)?.$metadata?.attempts;
  return typeof attempts === "number" && attempts > 0 ? attempts : 1;
}

/**
 * Sends an untokened create; when the SDK retried it, keeps exactly one
 * resource with this node's tags (the one the answer names) and deletes the
 * others, warning for each. The check never fails a create that succeeded:
 * when it cannot finish it says so, and `pilot status` lists any tagged
 * resource that state does not track.
 */
export async function createOnce<T>(env: PollEnv, ctx: CreateContext, call: UntokenedCreate<T>): Promise<T> {
  const answer = await attempt(call.action, () => call.send());
  const attempts = attemptsOf(answer);
  if (attempts <= 1) return answer;
  const id = call.idOf(answer);
  const warn = (message: string) => (ctx.warn ?? ctx.progress)(message);
  ctx.progress(`the create took ${attempts} attempts (an earlier answer may have been lost): looking for duplicates by this node's tags`);
  let own: string[];
  try {
    // The listing must show the resource just made, or it may be too early to show a duplicate either.
    own = await untilVisible(
      env,
      `${call.type} ${id} in the listing by its tags`,
      async () => {
        const ids = await call.listOwn();
        return ids.includes(id) ? ids : undefined;
      },
      { timeoutMs: LISTING_TIMEOUT_MS },
    );
  } catch (err) {
    warn(
      `the create of ${call.type} ${id} was retried, and the check for a duplicate it may have left failed (${(err as Error).message}); ` +
        "`pilot status` lists any resource of this stack that state does not track.",
    );
    return answer;
  }
  for (const extra of own.filter((x) => x !== id).sort()) {
    try {
      await call.remove(extra);
      warn(`deleted duplicate ${call.type} ${extra}: the create was retried after an answer was lost, and it had taken effect twice (kept ${id}).`);
    } catch (err) {
      warn(
        `${call.type} ${extra} is a duplicate left by a retried create (kept ${id}), and deleting it failed: ${(err as Error).message}. ` +
          "Delete it yourself; `pilot status` lists it until it is gone.",
      );
    }
  }
  return answer;
}

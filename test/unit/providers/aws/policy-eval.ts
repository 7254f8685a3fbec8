/**
 * A small evaluator of IAM identity policies, for the tests of the server
 * role: Allow statements only (the role has no Deny), actions and resources
 * matched with IAM's `*`/`?` wildcards, and the condition operators the role
 * uses (StringEquals, StringLike, ArnEquals, ArnLike, Null). A key missing
 * from the request fails every operator but Null, as in IAM. Not a full
 * engine; enough to show what the role lets a request do.
 */
import type { PolicyStatement } from "../../../../src/providers/aws/server-policy.js";

/** One authorization check: IAM evaluates each resource of a call on its own. */
export interface PolicyRequest {
  action: string;
  resource: string;
  /** Condition keys of the request, e.g. "aws:ResourceTag/pilot:stack-id", "iam:PassedToService". */
  context?: Record<string, string>;
}

function glob(pattern: string, value: string, caseInsensitive = false): boolean {
  const re = pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".");
  return new RegExp(`^${re}$`, caseInsensitive ? "i" : "").test(value);
}

function conditionHolds(op: string, key: string, want: string | string[], context: Record<string, string>): boolean {
  const values = Array.isArray(want) ? want : [want];
  const have = context[key];
  if (op === "Null") return values.every((v) => (v === "true") === (have === undefined));
  if (have === undefined) return false;
  switch (op) {
    case "StringEquals":
    case "ArnEquals":
      return values.includes(have);
    case "StringLike":
    case "ArnLike":
      return values.some((v) => glob(v, have));
    default:
      throw new Error(`policy-eval: unsupported condition operator ${op}`);
  }
}

function statementAllows(s: PolicyStatement, req: PolicyRequest): boolean {
  if (s.Effect !== "Allow") return false;
  // Action names are case-insensitive in IAM.
  if (!s.Action.some((a) => glob(a, req.action, true))) return false;
  const resources = Array.isArray(s.Resource) ? s.Resource : [s.Resource];
  if (!resources.some((r) => glob(r, req.resource))) return false;
  const context = { ...(req.context ?? {}), "aws:RequestedRegion": req.resource.split(":")[3] || (req.context?.["aws:RequestedRegion"] ?? "") };
  for (const [op, keys] of Object.entries(s.Condition ?? {})) {
    for (const [key, want] of Object.entries(keys)) if (!conditionHolds(op, key, want, context)) return false;
  }
  return true;
}

/** True when some statement allows the request (IAM's implicit deny otherwise). */
export function isAllowed(statements: PolicyStatement[], req: PolicyRequest): boolean {
  return statements.some((s) => statementAllows(s, req));
}

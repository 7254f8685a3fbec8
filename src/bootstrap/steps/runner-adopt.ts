import type { StepContext } from "./context.js";
import { waypointJsonContains, waypointWithToken } from "./waypoint-cli.js";
import type { Step } from "../types.js";

/**
 * Adopts the runner by id. It registers a moment after its container
 * starts, so apply is retried (every 2 s, up to 2 minutes) until the server
 * knows it.
 */
export function adoptRunner(ctx: StepContext, token: string): Step {
  const id = ctx.names.runnerId;
  return {
    name: "runner-adopt",
    description: `adopt the runner ${id}`,
    check: [waypointJsonContains(ctx, token, ["runner", "inspect", "-json", id], '"adoptionState":"ADOPTED"')],
    apply: [waypointWithToken(ctx, token, ["runner", "adopt", id])],
    retryApply: { timeoutMs: 120_000, intervalMs: 2_000 },
  };
}

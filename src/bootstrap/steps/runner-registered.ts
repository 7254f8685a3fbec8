import type { StepContext } from "./context.js";
import { waypointJsonContains } from "./waypoint-cli.js";
import type { Step } from "../types.js";

/**
 * Waits until the server knows the runner as adopted. Started with a login
 * token, it registers as pre-adopted a moment after its container starts;
 * one adopted explicitly by an earlier Pilot shows ADOPTED. Nothing to
 * apply: a runner that does not register is a fault to report, not adopt.
 */
export function waitForRunner(ctx: StepContext, token: string): Step {
  const id = ctx.names.runnerId;
  return {
    name: "runner-registered",
    description: `wait for the runner ${id} to register`,
    check: [
      waypointJsonContains(ctx, token, ["runner", "inspect", "-json", id], [
        '"adoptionState":"PREADOPTED"',
        '"adoptionState":"ADOPTED"',
      ]),
    ],
    apply: [],
    wait: { timeoutMs: 120_000, intervalMs: 2_000 },
  };
}

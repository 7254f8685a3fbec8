import type { StepContext } from "./context.js";
import { waypointAnonymous, waypointWithToken } from "./waypoint-cli.js";
import type { Step } from "../types.js";

/**
 * The server's first auth token. A server hands it out exactly once
 * (`waypoint server bootstrap`), so the orchestrator saves it to state the
 * moment apply prints it. With a known token the check proves it still
 * works; with none there is nothing to check and apply must run.
 */
export function takeBootstrapToken(ctx: StepContext, token: string | undefined): Step {
  return {
    name: "bootstrap-token",
    description: "bootstrap the server and save its first auth token",
    check: token === undefined ? [] : [waypointWithToken(ctx, token, ["user", "inspect"])],
    apply: [waypointAnonymous(ctx, ["server", "bootstrap"])],
    // The check was built with the old token; the orchestrator checks the new one by using it.
    recheck: false,
  };
}

/** The token is the last non-empty line `waypoint server bootstrap` prints. */
export function parseBootstrapToken(stdout: string): string | undefined {
  const lines = stdout.split(/\r?\n/).map((l) => l.trim()).filter((l) => l.length > 0);
  const last = lines[lines.length - 1];
  return last && !/\s/.test(last) ? last : undefined;
}

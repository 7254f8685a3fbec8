import type { StepContext } from "./context.js";
import { waypointJsonContains, waypointWithToken } from "./waypoint-cli.js";
import type { Step } from "../types.js";

/**
 * The default on-demand runner profile: Docker tasks launched by our
 * runner (which holds the Docker socket), from the ODR image. The check
 * compares the image, so changing it updates the profile.
 */
export function setRunnerProfile(ctx: StepContext, token: string): Step {
  const { profileName, runnerId } = ctx.names;
  return {
    name: "runner-profile",
    description: `set the on-demand runner profile ${profileName} (${ctx.odrImage})`,
    check: [
      waypointJsonContains(ctx, token, ["runner", "profile", "inspect", "-json", profileName], `"ociUrl":"${ctx.odrImage}"`),
    ],
    apply: [
      waypointWithToken(ctx, token, [
        "runner", "profile", "set",
        `-name=${profileName}`,
        "-plugin-type=docker",
        `-oci-url=${ctx.odrImage}`,
        "-default=true",
        `-target-runner-id=${runnerId}`,
      ]),
    ],
  };
}

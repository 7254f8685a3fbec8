import { cmd, docker, type StepContext } from "./context.js";
import type { Step } from "../types.js";

/**
 * The server's database (bolt, /data) and the runner's state dir (its
 * adoption token) outlive their containers, so re-creating a container loses
 * nothing. `docker volume create` of an existing name is a no-op.
 */
export function createVolumes(ctx: StepContext): Step {
  const { serverVolume, runnerVolume } = ctx.names;
  return {
    name: "volumes",
    description: `create the Docker volumes ${serverVolume} and ${runnerVolume}`,
    check: [cmd(docker(ctx, "volume", "inspect", "--format", "{{.Name}}", serverVolume, runnerVolume))],
    apply: [
      cmd(docker(ctx, "volume", "create", "--label", "pilot.managed=true", serverVolume)),
      cmd(docker(ctx, "volume", "create", "--label", "pilot.managed=true", runnerVolume)),
    ],
  };
}

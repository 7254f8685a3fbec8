import { cmd, docker, type StepContext } from "./context.js";
import type { Step } from "../types.js";

/** The bridge network the server, runner and (local provider) database share; the runner finds the server by name on it. */
export function createNetwork(ctx: StepContext): Step {
  const n = ctx.names.network;
  return {
    name: "network",
    description: `create the Docker network ${n}`,
    check: [cmd(docker(ctx, "network", "inspect", "--format", "{{.Name}}", n))],
    apply: [cmd(docker(ctx, "network", "create", "--driver", "bridge", "--label", "pilot.managed=true", n))],
  };
}

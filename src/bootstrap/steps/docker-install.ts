import { asRoot, cmd, docker, type StepContext } from "./context.js";
import type { Step } from "../types.js";

/**
 * Installs the distribution's `docker.io` only if no Docker daemon binary is
 * there (never replaces a Docker the image already has). apt waits up to 10
 * minutes for a lock held by unattended-upgrades instead of failing.
 */
export const INSTALL_DOCKER_SCRIPT = [
  "command -v dockerd >/dev/null 2>&1 && exit 0",
  "export DEBIAN_FRONTEND=noninteractive",
  "apt-get -o DPkg::Lock::Timeout=600 -q update",
  "apt-get -o DPkg::Lock::Timeout=600 -q install -y docker.io",
].join("\n");

/**
 * Docker installed and the daemon answering. The check asks the daemon
 * (`docker info`), not the package database, so "installed but not
 * running" is caught and fixed by `systemctl enable --now`. Every docker
 * call goes through `sudo -n`, so the SSH user need not be in the docker
 * group (a group added during this session would not apply to it anyway).
 */
export function installDocker(ctx: StepContext): Step {
  return {
    name: "docker",
    description: "install docker.io from the distribution and start the daemon",
    check: [cmd(docker(ctx, "info", "--format", "{{.ServerVersion}}"), { timeoutMs: 30_000 })],
    apply: [
      cmd(asRoot(ctx, "sh", "-c", INSTALL_DOCKER_SCRIPT), { timeoutMs: 15 * 60_000 }),
      cmd(asRoot(ctx, "systemctl", "enable", "--now", "docker.service"), { timeoutMs: 120_000 }),
    ],
  };
}

/**
 * Keeping a local app's port on loopback. Waypoint's docker platform
 * publishes the service port with no host address (builtin/docker/platform.go
 * leaves HostIP empty) and has no field to set one, so the address comes from
 * the bridge network that carries the container's port mapping: its
 * `com.docker.network.bridge.host_binding_ipv4` option, else 0.0.0.0. The
 * container starts on the network named "waypoint" (labelled use=waypoint,
 * made by the platform when missing) and is then connected to the stack's;
 * Docker moves the mapping to whichever network provides the default gateway
 * (the lowest name, e.g. "pilot-dev-net" before "waypoint"), so both must bind
 * to 127.0.0.1 for the port to stay there.
 */
import { HOST_BINDING_OPTION, type DockerCli } from "../providers/local/docker.js";

/** The network Waypoint's docker platform and task launcher use (builtin/docker: name "waypoint", label use=waypoint). */
export const WAYPOINT_NETWORK = "waypoint";
export { HOST_BINDING_OPTION };

/** The network's default host address for published ports; "" when unset (0.0.0.0), undefined when it does not exist. */
export async function hostBinding(cli: DockerCli, network: string): Promise<string | undefined> {
  const r = await cli(["network", "inspect", "--format", `{{index .Options "${HOST_BINDING_OPTION}"}}`, network]);
  if (r.code !== 0) {
    if (/no such network|not found/i.test(r.stderr)) return undefined;
    throw new Error(`docker network inspect ${network}: ${r.stderr.trim() || `exit ${r.code}`}`);
  }
  const v = r.stdout.trim();
  return v === "<no value>" ? "" : v;
}

/**
 * Makes the "waypoint" network, bound to loopback, unless it exists; returns
 * the networks among `networks` (plus "waypoint") that would publish an app's
 * port on every interface, so the caller can say so.
 */
export async function ensureLoopbackNetworks(cli: DockerCli, networks: string[]): Promise<string[]> {
  if ((await hostBinding(cli, WAYPOINT_NETWORK)) === undefined) {
    const r = await cli(["network", "create", "--driver", "bridge", "--label", "use=waypoint", "-o", `${HOST_BINDING_OPTION}=127.0.0.1`, WAYPOINT_NETWORK]);
    // Another run may have made it meanwhile: that is fine, it is checked below like any other.
    if (r.code !== 0 && !/already exists/i.test(r.stderr)) throw new Error(`docker network create ${WAYPOINT_NETWORK}: ${r.stderr.trim() || `exit ${r.code}`}`);
  }
  const open: string[] = [];
  for (const n of [WAYPOINT_NETWORK, ...networks]) {
    const binding = await hostBinding(cli, n);
    if (binding !== undefined && binding !== "127.0.0.1") open.push(n);
  }
  return open;
}

/**
 * Local apps' ports stay on loopback: the "waypoint" network is made with
 * Docker's host-binding option, and a network without it is named.
 * Docker is a recording stand-in here (the e2e tier has the real engine).
 */
import { describe, expect, it } from "vitest";
import { ensureLoopbackNetworks } from "../../../src/apps/local-network.js";
import type { DockerCli } from "../../../src/providers/local/docker.js";

/** A docker CLI that knows some networks and their host-binding option, and records every call. */
function fakeDocker(networks: Record<string, string>): { cli: DockerCli; calls: string[][] } {
  const calls: string[][] = [];
  const cli: DockerCli = async (args) => {
    calls.push(args);
    if (args[0] === "network" && args[1] === "inspect") {
      const name = args[args.length - 1]!;
      if (!(name in networks)) return { code: 1, stdout: "", stderr: `Error: No such network: ${name}` };
      return { code: 0, stdout: `${networks[name] || "<no value>"}\n`, stderr: "" };
    }
    if (args[0] === "network" && args[1] === "create") {
      networks[args[args.length - 1]!] = "127.0.0.1";
      return { code: 0, stdout: "id\n", stderr: "" };
    }
    return { code: 1, stdout: "", stderr: "unexpected" };
  };
  return { cli, calls };
}

describe("ensureLoopbackNetworks", () => {
  it("creates the waypoint network, labelled for Waypoint's plugins and bound to loopback", async () => {
    const d = fakeDocker({ "pilot-dev-net": "127.0.0.1" });
    expect(await ensureLoopbackNetworks(d.cli, ["pilot-dev-net"])).toEqual([]);
    expect(d.calls).toContainEqual(["network", "create", "--driver", "bridge", "--label", "use=waypoint", "-o", "com.docker.network.bridge.host_binding_ipv4=127.0.0.1", "waypoint"]);
  });

  it("names every network that would publish on all interfaces, and creates nothing that exists", async () => {
    const d = fakeDocker({ waypoint: "", "pilot-dev-net": "" });
    expect(await ensureLoopbackNetworks(d.cli, ["pilot-dev-net"])).toEqual(["waypoint", "pilot-dev-net"]);
    expect(d.calls.some((c) => c[1] === "create")).toBe(false);
  });
});

/**
 * Where the bootstrap puts the server on a VM: the fixed names (the VM is the
 * whole machine), or, for tests whose "VM" is a shared test machine,
 * PILOT_VM_NAME_SUFFIX's names of their own.
 */
import { describe, expect, it } from "vitest";
import { hostPorts, placement } from "../../../src/commands/bootstrap-stack.js";
import type { CommandContext } from "../../../src/commands/context.js";
import type { ServerAccess } from "../../../src/providers/types.js";

const vm: ServerAccess = { host: "203.0.113.5", port: 22, user: "ubuntu", privateKeyPath: "/k", publicAddress: "203.0.113.5" };
const ctx = (env: NodeJS.ProcessEnv) => ({ stack: "dev", env }) as unknown as CommandContext;

describe("placement on a VM", () => {
  it("uses the bootstrap's fixed names when PILOT_VM_NAME_SUFFIX is unset", () => {
    expect(placement(ctx({}), vm, {})).toEqual({ target: "vm" });
  });

  it("gives every engine-wide name and the root folder the suffix", () => {
    expect(placement(ctx({ PILOT_VM_NAME_SUFFIX: "e2e-1a2b3c" }), vm, {})).toEqual({
      target: "vm",
      names: {
        network: "pilot-e2e-1a2b3c",
        serverContainer: "waypoint-server-e2e-1a2b3c",
        runnerContainer: "waypoint-runner-e2e-1a2b3c",
        serverVolume: "waypoint-server-e2e-1a2b3c",
        runnerVolume: "waypoint-runner-e2e-1a2b3c",
      },
      remoteDir: "/etc/pilot-e2e-1a2b3c",
    });
  });

  it("publishes Waypoint on PILOT_VM_PORTS instead of 9701/9702, and every client uses them", () => {
    const env = { PILOT_VM_PORTS: "19701,19702" };
    expect(placement(ctx(env), vm, {})).toEqual({ target: "vm", ports: { grpc: 19701, http: 19702 } });
    expect(hostPorts(vm, {}, env)).toEqual({ grpc: 19701, http: 19702 });
    expect(hostPorts(vm, {}, {})).toEqual({ grpc: 9701, http: 9702 });
  });

  it.each(["19701", "19701,19701", "0,2", "70000,1", "a,b"])("refuses PILOT_VM_PORTS %j", (ports) => {
    expect(() => placement(ctx({ PILOT_VM_PORTS: ports }), vm, {})).toThrow(/PILOT_VM_PORTS/);
  });

  it.each(["../x", "A", "a b", "-x", "x".repeat(33)])("refuses the suffix %j, which would end up in a path and container names", (s) => {
    expect(() => placement(ctx({ PILOT_VM_NAME_SUFFIX: s }), vm, {})).toThrow(/PILOT_VM_NAME_SUFFIX/);
  });
});

/**
 * The local provider's checks before anything is created: who holds a host
 * port (a container, named, or some other program, found by a real bind on
 * loopback), the stack's own server being no conflict, and container names
 * already taken by another stack of the same name.
 */
import { createServer, type Server } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import type { DockerCli, DockerResult } from "../../../../src/providers/local/docker.js";
import { checkNamesFree, checkPortsFree, containersPublishing, probeBind } from "../../../../src/providers/local/preflight.js";
import { createLocalProvider } from "../../../../src/providers/local/provider.js";
import { PilotError, UsageError } from "../../../../src/errors.js";

/** A docker CLI that answers `ps --filter publish=N` from a table of host port → `name\tports` lines. */
function fakeDocker(published: Record<number, string> = {}, containers: string[] = []): DockerCli & { calls: string[][] } {
  const calls: string[][] = [];
  const cli = (async (args: string[]): Promise<DockerResult> => {
    calls.push(args);
    if (args[0] === "ps") {
      const port = Number(args[args.indexOf("--filter") + 1].replace("publish=", ""));
      return { code: 0, stdout: published[port] ? `${published[port]}\n` : "", stderr: "" };
    }
    if (args[0] === "container" && args[1] === "inspect") {
      const names = args.slice(4);
      const found = names.filter((n) => containers.includes(n));
      return { code: found.length === names.length ? 0 : 1, stdout: found.map((n) => `/${n}\n`).join(""), stderr: "Error: No such container" };
    }
    return { code: 0, stdout: "", stderr: "" };
  }) as DockerCli & { calls: string[][] };
  cli.calls = calls;
  return cli;
}

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

/** Holds a free loopback port with a plain listener, as another program would; returns the port. */
async function holdPort(): Promise<number> {
  const server = createServer();
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return (server.address() as { port: number }).port;
}

/** A port that was free a moment ago. */
async function freePort(): Promise<number> {
  const port = await holdPort();
  await new Promise((r) => servers.pop()!.close(r));
  return port;
}

describe("containersPublishing", () => {
  it("names the containers publishing the host port on a clashing address", () => {
    const ps = [
      "a\t127.0.0.1:9701->9701/tcp, 127.0.0.1:9702->9702/tcp",
      "b\t0.0.0.0:9701->80/tcp, :::9701->80/tcp",
      "c\t192.0.2.7:9701->9701/tcp",
      "d\t0.0.0.0:9700-9705->9700-9705/tcp",
      "e\t127.0.0.1:9701->9701/udp",
      "f\t5432/tcp",
    ].join("\n");
    expect(containersPublishing(ps, 9701, "127.0.0.1")).toEqual(["a", "b", "d"]);
    // Binding every address clashes with any address.
    expect(containersPublishing(ps, 9701, "0.0.0.0")).toEqual(["a", "b", "c", "d"]);
    expect(containersPublishing(ps, 9706, "127.0.0.1")).toEqual([]);
  });
});

describe("checkPortsFree", () => {
  const ports = (grpc: number, http: number) => [
    { port: grpc, role: "Waypoint gRPC", flag: "--grpc-port" },
    { port: http, role: "Waypoint UI", flag: "--http-port" },
  ];

  it("names a port a plain program holds and one a container holds, with free ports to use instead", async () => {
    const held = await holdPort();
    const byContainer = await freePort();
    const cli = fakeDocker({ [byContainer]: `pilot-other-waypoint-server\t127.0.0.1:${byContainer}->9702/tcp` });
    expect(await probeBind("127.0.0.1", held)).toBe("EADDRINUSE");
    const err = await checkPortsFree(cli, { ports: ports(held, byContainer), bindHost: "127.0.0.1", ownContainer: "pilot-s-waypoint-server", stack: "s" }).catch((e) => e);
    expect(err).toBeInstanceOf(PilotError);
    expect(err).not.toBeInstanceOf(UsageError);
    expect(err.message).toContain(`port ${held} (Waypoint gRPC, --grpc-port) on 127.0.0.1 is taken by another program on this machine (not a Docker container)`);
    expect(err.message).toContain(`port ${byContainer} (Waypoint UI, --http-port) on 127.0.0.1 is taken by the Docker container "pilot-other-waypoint-server"`);
    expect(err.message).toContain("Nothing was created.");
    expect(err.hint).toMatch(/--grpc-port \d+ --http-port \d+/);
    expect(err.hint).toContain("docker stop pilot-other-waypoint-server");
  });

  it("lets the stack's own server keep its ports on a re-run", async () => {
    // Its proxy holds the port, so a bind fails too; Docker names the holder as the stack's own.
    const own = await holdPort();
    const http = await freePort();
    const cli = fakeDocker({ [own]: `pilot-s-waypoint-server\t127.0.0.1:${own}->9701/tcp` });
    await expect(checkPortsFree(cli, { ports: ports(own, http), bindHost: "127.0.0.1", ownContainer: "pilot-s-waypoint-server", stack: "s" })).resolves.toBeUndefined();
  });

  it("passes free ports", async () => {
    const cli = fakeDocker();
    await expect(
      checkPortsFree(cli, { ports: ports(await freePort(), await freePort()), bindHost: "127.0.0.1", ownContainer: "x", stack: "s" }),
    ).resolves.toBeUndefined();
    expect(cli.calls.every((c) => c[0] === "ps")).toBe(true);
  });
});

describe("checkNamesFree", () => {
  it("refuses a new stack whose container names exist on the engine", async () => {
    const cli = fakeDocker({}, ["pilot-s-waypoint-server"]);
    const err = await checkNamesFree(cli, { stack: "s", containers: ["pilot-s-waypoint-server", "pilot-s-postgres"] }).catch((e) => e);
    expect(err).toBeInstanceOf(PilotError);
    expect(err.message).toContain("pilot-s-waypoint-server");
    expect(err.message).not.toContain("pilot-s-postgres");
    expect(err.hint).toContain("pilot teardown --orphans --name s --provider local");
    await expect(checkNamesFree(fakeDocker(), { stack: "s", containers: ["pilot-s-postgres"] })).resolves.toBeUndefined();
  });
});

describe("local provider ports", () => {
  const provider = (cli = fakeDocker()) => createLocalProvider({ stack: "s", stackDir: "/nonexistent", env: {}, emit: () => {} }, cli);

  it("takes --grpc-port/--http-port, keeps the recorded ones, defaults to 9701/9702", async () => {
    expect(await provider().resolveSettings({}, undefined)).toMatchObject({ grpcPort: 9701, httpPort: 9702 });
    expect(await provider().resolveSettings({ grpcPort: "19701", httpPort: "19702" }, undefined)).toMatchObject({ grpcPort: 19701, httpPort: 19702 });
    const stored = { postgresImage: "postgres:16", grpcPort: 19701, httpPort: 19702 };
    expect(await provider().resolveSettings({}, stored)).toMatchObject({ grpcPort: 19701, httpPort: 19702 });
    expect(await provider().resolveSettings({ httpPort: "19800" }, stored)).toMatchObject({ grpcPort: 19701, httpPort: 19800 });
  });

  it("refuses ports that are not ports, or the same port twice", async () => {
    for (const bad of ["0", "65536", "97o1", "-1", "9701.5", ""]) {
      await expect(provider().resolveSettings({ grpcPort: bad }, undefined), bad).rejects.toThrow(UsageError);
    }
    await expect(provider().resolveSettings({ grpcPort: "9702" }, undefined)).rejects.toThrow(/must differ/);
  });

  it("checks names only for a new stack, ports always", async () => {
    const cli = fakeDocker({}, ["pilot-s-postgres"]);
    const settings = await provider(cli).resolveSettings({ grpcPort: String(await freePort()), httpPort: String(await freePort()) }, undefined);
    await expect(provider(cli).preflight!(settings, undefined)).rejects.toThrow(/pilot-s-postgres/);
    await expect(provider(cli).preflight!(settings, { settings } as never)).resolves.toBeUndefined();
    expect(cli.calls.filter((c) => c[0] === "ps").map((c) => c[2])).toEqual([`publish=${settings.grpcPort}`, `publish=${settings.httpPort}`]);
  });
});

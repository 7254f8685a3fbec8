/**
 * What a local stack needs of this machine, checked before anything is
 * created: its host ports free (or already its own), and its container names
 * not taken by another stack of the same name. Docker itself would only say
 * "port is already allocated" when the bootstrap starts the server, after
 * the network, the volume and the database exist.
 */
import { createServer } from "node:net";
import { PilotError } from "../../errors.js";
import type { DockerCli } from "./docker.js";

/** One host port the stack publishes, with the flag that sets it (named in the message). */
export interface WantedPort {
  port: number;
  /** "Waypoint gRPC", "Waypoint UI". */
  role: string;
  flag: string;
}

/** Who holds a port: the containers publishing it, or (none) some other program; undefined = free. */
export type PortUse = { containers: string[] } | undefined;

const WILDCARDS = new Set(["", "0.0.0.0", "::", "[::]"]);

/**
 * Tries to listen on `host:port`; the error code (EADDRINUSE, EACCES) or
 * undefined when free. A plain bind is the only check that also sees
 * programs that are not containers.
 */
export function probeBind(host: string, port: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", (err: NodeJS.ErrnoException) => resolve(err.code ?? String(err)));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(undefined)));
  });
}

/**
 * The containers among `docker ps --format '{{.Names}}\t{{.Ports}}'` lines
 * that publish host port `port` on an address clashing with `bindHost` (the
 * same address, or either side a wildcard). `{{.Ports}}` reads like
 * `127.0.0.1:9701->9701/tcp, :::9702->9702/tcp` or, for ranges,
 * `0.0.0.0:9701-9702->9701-9702/tcp`.
 */
export function containersPublishing(psLines: string, port: number, bindHost: string): string[] {
  const names: string[] = [];
  for (const line of psLines.split("\n")) {
    const [name, ports = ""] = line.split("\t");
    if (!name?.trim()) continue;
    const clashes = ports.split(",").some((entry) => {
      const m = /^\s*(.*):(\d+)(?:-(\d+))?->\S*\/tcp\s*$/.exec(entry);
      if (!m) return false;
      const [, ip, from, to] = m;
      const inRange = port >= Number(from) && port <= Number(to ?? from);
      return inRange && (WILDCARDS.has(ip) || WILDCARDS.has(bindHost) || ip.replace(/^\[|\]$/g, "") === bindHost);
    });
    if (clashes) names.push(name.trim());
  }
  return names;
}

/**
 * Who uses `port` on `bindHost`, apart from `ownContainer` (the stack's own
 * server, which holds its ports on every re-run). Docker's answer comes
 * first, so the holder can be named; the bind probe then catches everything
 * else (and ports Docker forwards without a proxy process).
 */
export async function portUse(cli: DockerCli, port: number, bindHost: string, ownContainer: string): Promise<PortUse> {
  // `publish=` matches the host port; the address is checked from the listing.
  const ps = await cli(["ps", "--filter", `publish=${port}`, "--format", "{{.Names}}\t{{.Ports}}"]);
  const publishing = ps.code === 0 ? containersPublishing(ps.stdout, port, bindHost) : [];
  const others = publishing.filter((n) => n !== ownContainer);
  if (others.length > 0) return { containers: others };
  if (publishing.includes(ownContainer)) return undefined;
  const error = await probeBind(bindHost, port);
  return error ? { containers: [] } : undefined;
}

/** Describes a taken port for the error message. */
function takenBy(w: WantedPort, bindHost: string, use: NonNullable<PortUse>): string {
  const what =
    use.containers.length > 0
      ? `the Docker container${use.containers.length > 1 ? "s" : ""} ${use.containers.map((c) => `"${c}"`).join(", ")}`
      : "another program on this machine (not a Docker container)";
  return `port ${w.port} (${w.role}, ${w.flag}) on ${bindHost} is taken by ${what}`;
}

/** A pair of consecutive free ports from 9711 on, in steps of 10, for the hint; undefined if none is found quickly. */
async function suggestPair(cli: DockerCli, bindHost: string, ownContainer: string, avoid: number[]): Promise<[number, number] | undefined> {
  for (let base = 9711; base < 9711 + 10 * 30; base += 10) {
    if (avoid.includes(base) || avoid.includes(base + 1)) continue;
    if ((await portUse(cli, base, bindHost, ownContainer)) || (await portUse(cli, base + 1, bindHost, ownContainer))) continue;
    return [base, base + 1];
  }
  return undefined;
}

/**
 * Throws a PilotError naming every wanted port that something else holds
 * (which container, or that it is not one), with free ports to use instead.
 */
export async function checkPortsFree(cli: DockerCli, o: { ports: WantedPort[]; bindHost: string; ownContainer: string; stack: string }): Promise<void> {
  const uses = await Promise.all(o.ports.map((w) => portUse(cli, w.port, o.bindHost, o.ownContainer)));
  const taken = o.ports.flatMap((w, i) => (uses[i] ? [takenBy(w, o.bindHost, uses[i]!)] : []));
  if (taken.length === 0) return;
  const pair = await suggestPair(cli, o.bindHost, o.ownContainer, o.ports.map((w) => w.port));
  const holders = uses.flatMap((u) => u?.containers ?? []);
  throw new PilotError(`Cannot start stack "${o.stack}": ${taken.join("; ")}. Nothing was created.`, {
    hint:
      (pair ? `Give the stack other ports, e.g. \`--grpc-port ${pair[0]} --http-port ${pair[1]}\`` : "Give the stack other ports (--grpc-port, --http-port)") +
      (holders.length > 0
        ? `, or stop what holds them (\`docker stop ${[...new Set(holders)].join(" ")}\`).`
        : `, or stop the program that holds them (\`ss -ltnp\` shows which).`),
  });
}

/**
 * For a new stack (no state file): the containers Pilot would create under
 * the stack's names must not exist yet. If they do, another stack of this
 * name runs on the engine (another $PILOT_HOME, or one whose state was lost),
 * and the bootstrap would take its server over.
 */
export async function checkNamesFree(cli: DockerCli, o: { stack: string; containers: string[] }): Promise<void> {
  const r = await cli(["container", "inspect", "--format", "{{.Name}}", ...o.containers]);
  // inspect prints the ones that exist and fails for the rest: only stdout matters.
  const existing = r.stdout.split("\n").map((l) => l.trim().replace(/^\//, "")).filter(Boolean);
  if (existing.length === 0) return;
  throw new PilotError(
    `Stack "${o.stack}" has no state here, but containers of that name already run on this Docker engine (${existing.join(", ")}). Nothing was created.`,
    {
      hint:
        `Use another --name, or, if they belong to a stack whose state was lost, remove them with ` +
        `\`pilot teardown --orphans --name ${o.stack} --provider local\`.`,
    },
  );
}

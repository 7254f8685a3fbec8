/**
 * Everything on the Docker engine labelled `pilot.stack=<stack>`, whatever
 * its lineage: containers, networks and volumes, each with what it uses (a
 * container its networks and volumes), for `pilot teardown --orphans`.
 * The Waypoint server and runner containers and volumes carry no stack label
 * (the bootstrap names them instead); teardown removes those by name.
 */
import type { TaggedResource } from "../types.js";
import { dockerMessage, isNoSuch, type DockerCli } from "./docker.js";

type Labels = Record<string, string> | null | undefined;

interface ContainerInfo {
  Id: string;
  Name?: string;
  Config?: { Labels?: Labels; Image?: string };
  State?: { Status?: string };
  NetworkSettings?: { Networks?: Record<string, { NetworkID?: string }> | null };
  Mounts?: { Type?: string; Name?: string }[] | null;
}
interface NetworkInfo {
  Id: string;
  Name: string;
  Labels?: Labels;
}
interface VolumeInfo {
  Name: string;
  Labels?: Labels;
}

/** `docker <args>` split into lines; an engine error is thrown with Docker's own message. */
async function lines(cli: DockerCli, args: string[]): Promise<string[]> {
  const r = await cli(args);
  if (r.code !== 0) throw new Error(`docker ${args.slice(0, 2).join(" ")}: ${dockerMessage(r) || `exit ${r.code}`}`);
  return r.stdout.split("\n").map((l) => l.trim()).filter(Boolean);
}

/** `docker <what> inspect ids...`; an object removed since it was listed is simply left out. */
async function inspectAll<T>(cli: DockerCli, what: string, ids: string[]): Promise<T[]> {
  if (ids.length === 0) return [];
  const r = await cli([what, "inspect", ...ids]);
  if (r.code !== 0 && !isNoSuch(r.stderr)) throw new Error(`docker ${what} inspect: ${dockerMessage(r) || `exit ${r.code}`}`);
  try {
    return (JSON.parse(r.stdout || "[]") as T[]) ?? [];
  } catch {
    throw new Error(`docker ${what} inspect printed no JSON: ${dockerMessage(r)}`);
  }
}

/** The stack's labelled containers, networks and volumes on the local engine. */
export async function findTaggedLocal(cli: DockerCli, stack: string): Promise<TaggedResource[]> {
  const filter = ["--filter", `label=pilot.stack=${stack}`];
  const [containerIds, networkIds, volumeNames] = await Promise.all([
    lines(cli, ["ps", "--all", "--quiet", "--no-trunc", ...filter]),
    lines(cli, ["network", "ls", "--quiet", "--no-trunc", ...filter]),
    lines(cli, ["volume", "ls", "--quiet", ...filter]),
  ]);
  const [containers, networks, volumes] = await Promise.all([
    inspectAll<ContainerInfo>(cli, "container", containerIds),
    inspectAll<NetworkInfo>(cli, "network", networkIds),
    inspectAll<VolumeInfo>(cli, "volume", volumeNames),
  ]);
  // Labels are re-checked: a filter is only as exact as the engine that applies it.
  const ours = (labels: Labels) => labels?.["pilot.stack"] === stack;
  const tags = (labels: Labels) => ({ lineage: labels?.["pilot.stack-id"] || undefined, key: labels?.["pilot.key"] || undefined });
  return [
    // The only labelled containers Pilot makes are PostgreSQL's; that kind's delete removes any container.
    ...containers
      .filter((c) => ours(c.Config?.Labels))
      .map((c) => ({
        type: "local.docker.postgres",
        id: c.Id,
        out: { name: (c.Name ?? "").replace(/^\//, ""), image: c.Config?.Image ?? "", state: c.State?.Status ?? "unknown" },
        ...tags(c.Config?.Labels),
        uses: [
          ...Object.values(c.NetworkSettings?.Networks ?? {}).flatMap((n) => (n.NetworkID ? [{ type: "local.docker.network", id: n.NetworkID }] : [])),
          ...(c.Mounts ?? []).flatMap((m) => (m.Type === "volume" && m.Name ? [{ type: "local.docker.volume", id: m.Name }] : [])),
        ],
      })),
    ...networks.filter((n) => ours(n.Labels)).map((n) => ({ type: "local.docker.network", id: n.Id, out: { name: n.Name }, ...tags(n.Labels), uses: [] })),
    ...volumes.filter((v) => ours(v.Labels)).map((v) => ({ type: "local.docker.volume", id: v.Name, out: { name: v.Name }, ...tags(v.Labels), uses: [] })),
  ];
}

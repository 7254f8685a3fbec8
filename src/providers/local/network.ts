import type { ResourceKind } from "../../engine/types.js";
import { HOST_BINDING_OPTION, docker, isNoSuch, labelArgs, labelFilters, type DockerCli } from "./docker.js";

/** The user-defined bridge network the database and the Waypoint containers share. */
export interface NetworkSpec {
  name: string;
}
export interface NetworkOut {
  name: string;
}

export function networkKind(cli: DockerCli): ResourceKind<NetworkSpec, NetworkOut> {
  return {
    type: "local.docker.network",
    async read(id) {
      const r = await cli(["network", "inspect", "--format", "{{.Name}}", id]);
      if (r.code !== 0 && isNoSuch(r.stderr)) return undefined;
      if (r.code !== 0) throw new Error(r.stderr.trim());
      return { name: r.stdout.trim() };
    },
    async find(tags) {
      const ids = (await docker(cli, ["network", "ls", "-q", ...labelFilters(tags)])).split("\n").filter(Boolean);
      if (ids.length === 0) return undefined;
      const name = await docker(cli, ["network", "inspect", "--format", "{{.Name}}", ids[0]]);
      return { id: ids[0], out: { name } };
    },
    async create(spec, ctx) {
      // Ports published through this network without an address of their own (Waypoint's docker platform
      // publishes an app's port so) listen on loopback, not on every interface (src/apps/local-network.ts).
      const id = await docker(cli, ["network", "create", "--driver", "bridge", "-o", `${HOST_BINDING_OPTION}=127.0.0.1`, ...labelArgs(ctx.tags), spec.name]);
      return { id, out: { name: spec.name } };
    },
    async delete(id) {
      const r = await cli(["network", "rm", id]);
      if (r.code !== 0 && !isNoSuch(r.stderr)) throw new Error(r.stderr.trim());
    },
  };
}

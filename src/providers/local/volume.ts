import type { ResourceKind } from "../../engine/types.js";
import { docker, isNoSuch, labelArgs, labelFilters, type DockerCli } from "./docker.js";

/** A named volume for the database's data. */
export interface VolumeSpec {
  name: string;
}
export interface VolumeOut {
  name: string;
}

/**
 * Volumes hold the user's data, so teardown keeps them when asked
 * (`keepVolumes`), and a later stack of the same name adopts the kept volume
 * by its stack and key labels (not the lineage, which a new stack changes).
 */
export function volumeKind(cli: DockerCli, opts: { keepVolumes: () => boolean }): ResourceKind<VolumeSpec, VolumeOut> {
  return {
    type: "local.docker.volume",
    async read(id) {
      const r = await cli(["volume", "inspect", "--format", "{{.Name}}", id]);
      if (r.code !== 0 && isNoSuch(r.stderr)) return undefined;
      if (r.code !== 0) throw new Error(r.stderr.trim());
      return { name: r.stdout.trim() };
    },
    async find(tags) {
      const names = (await docker(cli, ["volume", "ls", "-q", ...labelFilters(tags, { withStackId: false })])).split("\n").filter(Boolean);
      return names.length ? { id: names[0], out: { name: names[0] } } : undefined;
    },
    async create(spec, ctx) {
      // An existing volume of this name (kept by an earlier teardown) is reused, not replaced.
      const existing = await this.find(ctx.tags, spec);
      if (existing) return existing;
      const name = await docker(cli, ["volume", "create", ...labelArgs(ctx.tags), spec.name]);
      return { id: name, out: { name } };
    },
    async delete(id, _out, ctx) {
      if (opts.keepVolumes()) {
        ctx.progress(`kept volume ${id} (--keep-volumes)`);
        return;
      }
      const r = await cli(["volume", "rm", id]);
      if (r.code !== 0 && !isNoSuch(r.stderr)) throw new Error(r.stderr.trim());
    },
  };
}

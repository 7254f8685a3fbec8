import type { ResourceKind } from "../../engine/types.js";
import { docker, isNoSuch, labelArgs, labelFilters, type DockerCli } from "./docker.js";

/** The stack's PostgreSQL, a container reachable only on the stack's network. */
export interface PostgresSpec {
  name: string;
  image: string;
  network: string;
  volume: string;
  user: string;
  database: string;
  password: string;
}
export interface PostgresOut {
  name: string;
  image: string;
  state: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** How long a fresh PostgreSQL may take to initialise its data directory and answer. */
export const POSTGRES_READY_TIMEOUT_MS = 120_000;

async function inspect(cli: DockerCli, id: string): Promise<PostgresOut | undefined> {
  const r = await cli(["container", "inspect", "--format", "{{.Name}}|{{.Config.Image}}|{{.State.Status}}", id]);
  if (r.code !== 0 && isNoSuch(r.stderr)) return undefined;
  if (r.code !== 0) throw new Error(r.stderr.trim());
  const [name, image, state] = r.stdout.trim().split("|");
  return { name: name.replace(/^\//, ""), image, state };
}

export function postgresKind(cli: DockerCli): ResourceKind<PostgresSpec, PostgresOut> {
  return {
    type: "local.docker.postgres",
    read: (id) => inspect(cli, id),
    async find(tags) {
      const ids = (await docker(cli, ["ps", "-aq", ...labelFilters(tags)])).split("\n").filter(Boolean);
      if (ids.length === 0) return undefined;
      const out = await inspect(cli, ids[0]);
      return out ? { id: ids[0], out } : undefined;
    },
    async create(spec, ctx) {
      // `-e NAME` without a value copies it from the docker CLI's own environment:
      // the password never appears in argv, so never in `ps`.
      const id = await docker(
        cli,
        [
          "run", "--detach", "--name", spec.name, ...labelArgs(ctx.tags),
          "--network", spec.network, "--network-alias", "postgres",
          "--restart", "unless-stopped",
          "--volume", `${spec.volume}:/var/lib/postgresql/data`,
          "--env", `POSTGRES_USER=${spec.user}`, "--env", `POSTGRES_DB=${spec.database}`, "--env", "POSTGRES_PASSWORD",
          spec.image,
        ],
        { env: { POSTGRES_PASSWORD: spec.password } },
      );
      ctx.progress("starting");
      const deadline = Date.now() + POSTGRES_READY_TIMEOUT_MS;
      for (;;) {
        const ready = await cli(["exec", id, "pg_isready", "-U", spec.user, "-d", spec.database, "-h", "127.0.0.1"]);
        if (ready.code === 0) break;
        const out = await inspect(cli, id);
        if (out && out.state !== "running" && out.state !== "created") {
          const logs = await cli(["logs", "--tail", "5", id]);
          throw new Error(`the PostgreSQL container stopped (${out.state}): ${(logs.stderr || logs.stdout).trim().split("\n").pop()}`);
        }
        if (Date.now() > deadline) throw new Error(`PostgreSQL did not accept connections within ${POSTGRES_READY_TIMEOUT_MS / 1000}s`);
        ctx.progress("initialising the database");
        await sleep(500);
      }
      // A data volume kept by an earlier teardown was initialised with that stack's
      // password; set this stack's (over the container's local socket, SQL on stdin).
      const quoted = `'${spec.password.replace(/'/g, "''")}'`;
      await docker(cli, ["exec", "-i", id, "psql", "-v", "ON_ERROR_STOP=1", "-q", "-U", spec.user, "-d", spec.database], {
        stdin: `ALTER USER "${spec.user}" WITH PASSWORD ${quoted};\n`,
      });
      return { id, out: (await inspect(cli, id))! };
    },
    async delete(id) {
      const r = await cli(["rm", "--force", "--volumes", id]);
      if (r.code !== 0 && !isNoSuch(r.stderr)) throw new Error(r.stderr.trim());
    },
    diff(spec, out) {
      if (spec.image !== out.image) return { result: "replace", reason: `image ${out.image} → ${spec.image}` };
      // Its data lives in the volume, so a stopped container is simply replaced.
      if (out.state !== "running") return { result: "replace", reason: `container is ${out.state}` };
      return { result: "same" };
    },
  };
}

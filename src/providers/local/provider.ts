import { randomBytes } from "node:crypto";
import { PilotError, UsageError } from "../../errors.js";
import { checkImageRef } from "../../image-ref.js";
import type { StackNode } from "../../engine/types.js";
import type { StackState } from "../../state/schema.js";
import type { Provider, ProviderContext, ProviderFlags } from "../types.js";
import { createDockerCli, localName, type DockerCli } from "./docker.js";
import { networkKind } from "./network.js";
import { findTaggedLocal } from "./orphans.js";
import { postgresKind } from "./postgres.js";
import { checkNamesFree, checkPortsFree } from "./preflight.js";
import { volumeKind } from "./volume.js";

/** Settings of a local stack. */
export interface LocalSettings extends Record<string, unknown> {
  postgresImage: string;
  /** Host ports (on 127.0.0.1 only) for Waypoint's gRPC and UI: --grpc-port / --http-port, else Waypoint's own 9701/9702. */
  grpcPort: number;
  httpPort: number;
  keepVolumes?: boolean;
}

/** The official image's major version Pilot is tested against. */
export const DEFAULT_POSTGRES_IMAGE = "postgres:16";

/** Where a local stack's ports listen: this machine only. */
export const LOCAL_BIND_HOST = "127.0.0.1";

/** A --grpc-port / --http-port value: a whole number from 1 to 65535. */
function portFlag(flag: string, value: unknown): number | undefined {
  if (value === undefined) return undefined;
  const text = String(value).trim();
  const port = Number(text);
  if (!/^\d+$/.test(text) || port < 1 || port > 65535) {
    throw new UsageError(`--${flag} must be a port number from 1 to 65535, not "${String(value)}".`, `For example --${flag} ${flag === "grpc-port" ? 9711 : 9712}.`);
  }
  return port;
}

/**
 * The no-cloud provider: the same Waypoint server on the user's own Docker
 * engine, with a PostgreSQL container on the stack's network as the database.
 */
export function createLocalProvider(ctx: ProviderContext, cli: DockerCli = createDockerCli(ctx.env)): Provider<LocalSettings> {
  let keepVolumes = false;
  const kinds = {
    network: networkKind(cli),
    volume: volumeKind(cli, { keepVolumes: () => keepVolumes }),
    postgres: postgresKind(cli),
  };
  return {
    name: "local",

    async resolveSettings(flags: ProviderFlags, stored) {
      for (const unsupported of ["region", "instanceType", "dbInstanceClass", "ami"] as const) {
        if (flags[unsupported] !== undefined) {
          throw new UsageError(`--${unsupported.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} does not apply to --provider local.`);
        }
      }
      if (flags.allowCidr && flags.allowCidr.length > 0) {
        throw new UsageError("--allow-cidr does not apply to --provider local: its ports listen on 127.0.0.1 only.");
      }
      // A given port is recorded and kept by later runs; changing it re-creates the server container on the new one.
      const grpcPort = portFlag("grpc-port", flags.grpcPort) ?? stored?.grpcPort ?? 9701;
      const httpPort = portFlag("http-port", flags.httpPort) ?? stored?.httpPort ?? 9702;
      if (grpcPort === httpPort) throw new UsageError(`--grpc-port and --http-port must differ (both are ${grpcPort}).`);
      return {
        postgresImage: checkImageRef("postgres-image", (flags.postgresImage as string) ?? stored?.postgresImage ?? DEFAULT_POSTGRES_IMAGE, "postgres:16"),
        grpcPort,
        httpPort,
      };
    },

    async preflight(settings, state) {
      // The bootstrap names these the same way (src/commands/bootstrap-stack.ts placement()).
      const server = localName(ctx.stack, "waypoint-server");
      if (!state) await checkNamesFree(cli, { stack: ctx.stack, containers: [server, localName(ctx.stack, "waypoint-runner"), localName(ctx.stack, "postgres")] });
      await checkPortsFree(cli, {
        stack: ctx.stack,
        bindHost: LOCAL_BIND_HOST,
        ownContainer: server,
        ports: [
          { port: settings.grpcPort, role: "Waypoint gRPC", flag: "--grpc-port" },
          { port: settings.httpPort, role: "Waypoint UI", flag: "--http-port" },
        ],
      });
    },

    async checkCredentials() {
      const r = await cli(["version", "--format", "{{.Server.Version}}"]);
      if (r.code !== 0) {
        throw new PilotError("No Docker engine answered (`docker version` failed).", {
          hint: "Start Docker (or set DOCKER_HOST), check `docker info` works for this user, then run the command again.",
        });
      }
      return `the local Docker engine ${r.stdout.trim()}`;
    },

    async prepare(_settings, store) {
      if (!store.current!.secrets.dbPassword) {
        await store.update((s) => {
          s.secrets.dbPassword = randomBytes(24).toString("base64url");
        });
      }
    },

    graph(settings, state: StackState): StackNode[] {
      return [
        { key: "network", kind: kinds.network, dependsOn: [], spec: () => ({ name: localName(ctx.stack, "net") }) },
        { key: "db-volume", kind: kinds.volume, dependsOn: [], spec: () => ({ name: localName(ctx.stack, "pgdata") }) },
        {
          key: "db",
          kind: kinds.postgres,
          dependsOn: ["network", "db-volume"],
          spec: (d) => ({
            name: localName(ctx.stack, "postgres"),
            image: settings.postgresImage,
            network: d.network.name,
            volume: d["db-volume"].name,
            user: "pilot",
            database: "pilot",
            password: state.secrets.dbPassword,
          }),
        },
      ];
    },

    kinds(settings) {
      keepVolumes = Boolean(settings.keepVolumes);
      return Object.fromEntries(Object.values(kinds).map((k) => [k.type, k]));
    },

    serverAccess() {
      return { via: "local", host: "127.0.0.1", port: 0, user: "", privateKeyPath: "", publicAddress: "127.0.0.1" };
    },

    databaseInfo(state) {
      const db = state.resources.db;
      if (db?.status !== "created") return undefined;
      // Reachable by containers on the stack's network (the apps), under the alias "postgres".
      return { host: (db.out as { name: string }).name, port: 5432, user: "pilot", database: "pilot", passwordSecret: "dbPassword" };
    },

    isRetryableDelete(err) {
      // A network still has endpoints for a moment after its containers go.
      return /has active endpoints|being removed/i.test(String((err as Error)?.message ?? err));
    },

    findTagged() {
      return findTaggedLocal(cli, ctx.stack);
    },
  };
}

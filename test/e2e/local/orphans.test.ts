/**
 * `pilot teardown --orphans --provider local` for real: a local stack whose
 * state folder is lost is found by its Docker labels (and its Waypoint
 * containers and volumes by name) and removed, while objects of another
 * stack, even one whose name starts the same, stay. The real Waypoint image
 * (realWaypointImage()), the stand-in PostgreSQL image.
 */
import { existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildStandinImages, cleanupDocker, docker, inspect, requireDocker, uniqueSuffix } from "../../support/docker.js";
import { runCli } from "../../support/run-cli.js";
import { freePorts } from "../../support/ports.js";
import { tempHome } from "../../support/temp-home.js";
import { realWaypointImage } from "../../support/waypoint-image.js";

const stack = `orph${uniqueSuffix()}`;
const other = `${stack}-b`;
const name = (what: string, s = stack) => `pilot-${s}-${what}`;
let t: ReturnType<typeof tempHome>;
let images: { waypoint: string; postgres: string };
let env: NodeJS.ProcessEnv;

const containers = [name("waypoint-runner"), name("waypoint-server"), name("postgres"), name("postgres", other)];
const networks = [name("net"), name("net", other)];
const volumes = [name("pgdata"), name("waypoint-server"), name("waypoint-runner"), name("pgdata", other), name("waypoint-server", other)];

// Free host ports, not 9701/9702: another stack on this engine may hold those, and up-server would rightly refuse.
let ports: string[];

beforeAll(async () => {
  requireDocker();
  const [grpc, http] = await freePorts(2);
  ports = ["--grpc-port", String(grpc), "--http-port", String(http)];
  images = { waypoint: realWaypointImage(), postgres: buildStandinImages().postgres };
  t = tempHome("pilot-e2e-orphans-");
  env = { PILOT_HOME: t.home, XDG_CONFIG_HOME: join(t.home, "xdg") };
  // The neighbour's objects, labelled as Pilot labels them (its name starts with this stack's).
  const labels = ["--label", `pilot.stack=${other}`, "--label", "pilot.stack-id=00000000-0000-4000-8000-000000000000"];
  docker("network", "create", ...labels, "--label", "pilot.key=network", name("net", other));
  docker("volume", "create", ...labels, "--label", "pilot.key=db-volume", name("pgdata", other));
  docker("volume", "create", "--label", "pilot.managed=true", name("waypoint-server", other));
  docker("create", "--name", name("postgres", other), ...labels, "--label", "pilot.key=db", "--network", name("net", other), "--volume", `${name("pgdata", other)}:/data`, images.postgres);
});
afterAll(() => {
  cleanupDocker({ containers, networks, volumes });
  t?.cleanup();
});

const exists = (what: string) => inspect(what, "{{.Name}}") !== undefined;
const volumeList = () => docker("volume", "ls", "-q").split("\n");

describe("pilot teardown --orphans --provider local", () => {
  it("removes a stack whose state is lost: containers, network and volumes of that stack only", async () => {
    const up = await runCli(
      ["up-server", "--provider", "local", "--name", stack, "--waypoint-image", images.waypoint, "--postgres-image", images.postgres, ...ports, "--json"],
      env,
    );
    expect(up.code, up.stderr).toBe(0);
    const context = join(t.home, "xdg", "waypoint", "context", `pilot-${stack}.hcl`);
    expect(existsSync(context)).toBe(true);
    const ids = Object.fromEntries(Object.entries(up.json.resources as Record<string, { id: string }>).map(([k, r]) => [k, r.id]));
    rmSync(join(t.home, "stacks", stack), { recursive: true });

    const dry = await runCli(["teardown", "--orphans", "--provider", "local", "--name", stack, "--dry-run", "--json"], env);
    expect(dry.code, dry.stderr).toBe(0);
    const found = (dry.json.orphans as { type: string; id: string; dependsOn: string[]; key: string }[]).map((o) => [o.type, o.id]).sort();
    expect(found).toEqual(
      [
        ["local.docker.network", ids.network],
        ["local.docker.postgres", ids.db],
        ["local.docker.volume", ids["db-volume"]],
      ].sort(),
    );
    // The container goes before its network and its volume.
    const db = dry.json.orphans.find((o: { type: string }) => o.type === "local.docker.postgres");
    expect([...db.dependsOn].sort()).toEqual([`orphan:local.docker.network:${ids.network}`, `orphan:local.docker.volume:${ids["db-volume"]}`].sort());
    for (const c of ["waypoint-server", "waypoint-runner", "postgres"]) expect(exists(name(c)), c).toBe(true);

    const r = await runCli(["teardown", "--orphans", "--provider", "local", "--name", stack, "--yes", "--json"], env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json.ok).toBe(true);
    expect(r.json.deleted).toHaveLength(3);
    for (const c of ["waypoint-server", "waypoint-runner", "postgres"]) expect(exists(name(c)), c).toBe(false);
    expect(exists(name("net"))).toBe(false);
    for (const v of ["pgdata", "waypoint-server", "waypoint-runner"]) expect(volumeList(), v).not.toContain(name(v));
    expect(docker("ps", "-aq", "--filter", `label=pilot.stack=${stack}`).trim()).toBe("");
    expect(existsSync(context)).toBe(false);
    expect(existsSync(join(t.home, "stacks", stack))).toBe(false);

    // The neighbour's objects are all still there.
    expect(exists(name("postgres", other))).toBe(true);
    expect(exists(name("net", other))).toBe(true);
    expect(volumeList()).toEqual(expect.arrayContaining([name("pgdata", other), name("waypoint-server", other)]));
  });
});

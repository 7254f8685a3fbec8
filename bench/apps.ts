/**
 * `npm run bench -- apps`: Pilot's overhead over the bare engine for the
 * fixture app on the local provider. `pilot up` (first and second deploy,
 * with the phases the job reports) beside a plain `docker build` +
 * `docker run` of the same app until it answers HTTP.
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { appStatus, startAppFixture } from "../test/support/app-fixture.js";
import { buildStandinImages, buildWaypointImage, docker, requireDocker, uniqueSuffix } from "../test/support/docker.js";
import { freePorts } from "../test/support/ports.js";
import { runCli } from "../test/support/run-cli.js";
import { tempHome } from "../test/support/temp-home.js";

type Phase = { phase: string; seconds: number };

export default async function benchApps(): Promise<void> {
  requireDocker();
  const waypointImage = buildWaypointImage();
  const postgresImage = buildStandinImages().postgres;
  const suffix = uniqueSuffix();
  const stack = `bench${suffix}`;
  const t = tempHome("pilot-bench-apps-");
  const env = { PILOT_HOME: t.home, XDG_CONFIG_HOME: join(t.home, "xdg") };
  const pilot = (...args: string[]) => runCli([...args, "--name", stack, "--json"], env, { timeoutMs: 600_000 });
  const [grpc, http] = await freePorts(2);
  const plain = `pilot-bench-plain-${suffix}`;
  let fixture: ReturnType<typeof startAppFixture> | undefined;
  try {
    const up = await runCli(["up-server", "--provider", "local", "--name", stack, "--waypoint-image", waypointImage, "--postgres-image", postgresImage,
      "--grpc-port", String(grpc), "--http-port", String(http), "--json"], env, { timeoutMs: 600_000 });
    if (up.code !== 0) throw new Error(`up-server: ${up.stderr}`);
    fixture = startAppFixture({ dir: t.home, suffix, network: `pilot-${stack}-net`, waypointImage, postgresImage });
    await pilot("new", "app", "--project", "shop", "--app", "web", "--target", "docker", "--port", "3000", "--dir", fixture.repoDir);
    fixture.publish("bench");
    await pilot("new", "project", "shop", "--git-url", fixture.gitUrl, "--git-ref", "main");

    for (const which of ["first", "second"]) {
      const started = performance.now();
      const r = await pilot("up", "shop/web");
      if (r.code !== 0) throw new Error(`pilot up: ${r.stderr}`);
      await appStatus(r.json.url, 100);
      const wall = (performance.now() - started) / 1000;
      const phases = (r.json.phases as Phase[]).map((p) => `${p.phase} ${p.seconds.toFixed(1)} s`).join(", ");
      console.log(`apps: pilot up (${which} deploy): ${wall.toFixed(1)} s until the app answers (${phases})`);
    }

    // The same app on the bare engine: build from the same working copy, run, wait for HTTP.
    const started = performance.now();
    const build = spawnSync("docker", ["build", "-q", "-t", plain, fixture.repoDir], { encoding: "utf8" });
    if (build.status !== 0) throw new Error(`docker build: ${build.stderr}`);
    const built = performance.now();
    docker("run", "-d", "--name", plain, "-p", "127.0.0.1::3000", plain);
    const port = docker("port", plain, "3000/tcp").trim().split(":").pop();
    await appStatus(`http://127.0.0.1:${port}`, 100);
    const done = performance.now();
    console.log(`apps: docker build + docker run: ${((done - started) / 1000).toFixed(1)} s until the app answers (build ${((built - started) / 1000).toFixed(1)} s, run ${((done - built) / 1000).toFixed(1)} s)`);
  } finally {
    spawnSync("docker", ["rm", "-f", "-v", plain]);
    spawnSync("docker", ["rmi", "-f", plain]);
    fixture?.stopGit(); // its git daemon is on the stack's network, which teardown removes
    await runCli(["teardown", "--name", stack, "--yes"], env).catch(() => undefined);
    fixture?.cleanup();
    t.cleanup();
  }
}

/**
 * A Waypoint server hands out its first token once. A Pilot that dies right
 * after the server printed it, before the state write, must get the same
 * token back on the next run: the server keeps a copy in its own volume.
 * Runs the real steps on this machine's Docker engine (LocalExecutor) with
 * the real Waypoint image (realWaypointImage()).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bootstrapServer, LocalExecutor, type BootstrapOptions } from "../../../src/bootstrap/index.js";
import { cleanupDocker, docker, requireDocker, uniqueSuffix } from "../../support/docker.js";
import { freePort } from "../../support/sshd.js";
import { realWaypointImage } from "../../support/waypoint-image.js";

const s = uniqueSuffix();
const names = {
  network: `pilot-tok-${s}`, serverContainer: `waypoint-server-tok-${s}`, runnerContainer: `waypoint-runner-tok-${s}`,
  serverVolume: `waypoint-server-tok-${s}`, runnerVolume: `waypoint-runner-tok-${s}`, runnerId: `pilot-runner-tok-${s}`, profileName: `pilot-docker-tok-${s}`,
};
let stackDir: string;
let image: string;
let ports: { grpc: number; http: number; bindHost: string };

beforeAll(async () => {
  requireDocker();
  image = realWaypointImage();
  stackDir = mkdtempSync(join(tmpdir(), "pilot-e2e-token-"));
  ports = { grpc: await freePort(), http: await freePort(), bindHost: "127.0.0.1" };
});
afterAll(() => {
  cleanupDocker({ containers: [names.runnerContainer, names.serverContainer], networks: [names.network], volumes: [names.serverVolume, names.runnerVolume] });
  rmSync(stackDir, { recursive: true, force: true });
});

const options = (saveToken: (t: string) => Promise<void>): BootstrapOptions => ({
  exec: new LocalExecutor(),
  target: "local",
  serverAddresses: ["127.0.0.1"],
  tlsDir: join(stackDir, "tls"),
  waypointImage: image,
  token: undefined,
  saveToken,
  emit: () => {},
  names,
  ports,
});

describe("the bootstrap token survives a crash before the state write", () => {
  it("the next run gets the same token back from the server", async () => {
    let handedOut: string | undefined;
    await expect(
      bootstrapServer(
        options(async (t) => {
          handedOut = t;
          throw new Error("killed before the state write");
        }),
      ),
    ).rejects.toThrow(/killed before the state write/);
    expect(handedOut).toBeTruthy();

    const saved: string[] = [];
    const res = await bootstrapServer(options(async (t) => void saved.push(t)));
    expect(saved).toEqual([handedOut]);
    expect(res.applied).toContain("runner");
    // The copy is readable by the server's own user only.
    expect(docker("exec", names.serverContainer, "stat", "-c", "%a", "/data/pilot-bootstrap-token").trim()).toBe("600");
  });
});

describe("a server whose CLI cannot write a context still hands Pilot its token", () => {
  const n = Object.fromEntries(Object.entries(names).map(([k, v]) => [k, `${v}-ro`])) as typeof names;
  afterAll(() => {
    cleanupDocker({ containers: [n.runnerContainer, n.serverContainer], networks: [n.network], volumes: [n.serverVolume, n.runnerVolume] });
  });

  /**
   * Once the server answers, and before `server bootstrap` runs, the server
   * user's CLI context folder is made root-owned and read-only: any context
   * write (what `server bootstrap` does by default) fails from then on.
   */
  function forbidContextWrites(): void {
    const dir = docker("exec", n.serverContainer, "sh", "-c", 'echo "${XDG_CONFIG_HOME:-$HOME/.config}/waypoint"').trim();
    docker("exec", "-u", "root", n.serverContainer, "sh", "-c", `mkdir -p '${dir}/context' && chown -R root:root '${dir}' && chmod -R 0555 '${dir}'`);
  }

  it("context creation is off: a forced context-write failure does not cost the token", async () => {
    const saved: string[] = [];
    const own = { grpc: await freePort(), http: await freePort(), bindHost: "127.0.0.1" };
    let forced = "";
    const res = await bootstrapServer({
      ...options(async (t) => void saved.push(t)), names: n, ports: own, tlsDir: join(stackDir, "ro", "tls"),
      emit: (e) => {
        if (e.type === "done" && e.key === "bootstrap:server-ready") {
          forbidContextWrites();
          // Proof the fault is in place: the CLI in the server container can no longer write a context.
          forced = docker("exec", n.serverContainer, "sh", "-c",
            "waypoint context create -server-addr=localhost:9701 -set-default probe >/dev/null 2>&1; echo exit=$?").trim();
        }
      },
    });
    expect(forced).toMatch(/^exit=[1-9]/);
    expect(saved).toHaveLength(1);
    expect(saved[0]).toMatch(/^[A-Za-z0-9]{40,}$/);
    expect(res.applied).toEqual(expect.arrayContaining(["bootstrap-token", "runner", "runner-profile"]));
  });
});

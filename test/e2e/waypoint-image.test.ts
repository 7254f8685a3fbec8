/**
 * The real Waypoint 0.11.4 image that `npm run waypoint:build`
 * (scripts/waypoint-build.sh) builds from the Go module: it is shaped like the
 * official image's final stage (user waypoint uid 100, /data a volume owned
 * by it, busybox, git, the entry point) and its server starts and answers
 * over TLS on 9702. A cold build (module downloads and compile) takes about
 * ten minutes on two cores; a warm one only prints the tag.
 */
import { request } from "node:https";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cleanupDocker, docker, requireDocker, uniqueSuffix } from "../support/docker.js";
import { realWaypointImage } from "../support/waypoint-image.js";

const s = uniqueSuffix();
const server = `pilot-wpimage-${s}`;
const volume = `pilot-wpimage-${s}`;
let image: string;

beforeAll(() => {
  requireDocker();
  image = realWaypointImage();
  expect(image).toMatch(/^pilot-waypoint:0\.11\.4-[0-9a-f]{12}$/);
}, 45 * 60_000);
afterAll(() => cleanupDocker({ containers: [server], volumes: [volume] }));

/** `docker run --rm` of the image with ARGS after the entry point (or with --entrypoint ENTRY). */
const run = (args: string[], entry?: string) =>
  docker("run", "--rm", ...(entry ? ["--entrypoint", entry] : []), image, ...args).trim();

/** The HTTP status of GET https://127.0.0.1:PORT/ (certificate not checked), or undefined while it does not answer. */
function httpsStatus(port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const req = request({ host: "127.0.0.1", port, path: "/", rejectUnauthorized: false, timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode);
    });
    req.on("timeout", () => req.destroy());
    req.on("error", () => resolve(undefined));
    req.end();
  });
}

describe("the real Waypoint image (npm run waypoint:build)", () => {
  it("is Waypoint 0.11.4", () => {
    expect(run(["version"])).toMatch(/^CLI: v0\.11\.4\b/);
  });

  it("runs as waypoint (uid 100) with the official environment and entry point", () => {
    const config = JSON.parse(docker("image", "inspect", "--format", "{{json .Config}}", image));
    expect(config.User).toBe("waypoint");
    expect(config.Entrypoint).toEqual(["/usr/bin/waypoint"]);
    expect(config.Env).toEqual(expect.arrayContaining(["USER=waypoint", "HOME=/home/waypoint", "XDG_RUNTIME_DIR=/run/user/100"]));
    expect(run([], "id")).toMatch(/^uid=100\(waypoint\) gid=1000\(waypoint\)/);
  });

  it("declares /data a volume owned by uid 100, which a named volume inherits", () => {
    const volumes = JSON.parse(docker("image", "inspect", "--format", "{{json .Config.Volumes}}", image));
    expect(Object.keys(volumes)).toEqual(["/data"]);
    expect(run(["-c", "%u", "/data"], "stat")).toBe("100");
    try {
      docker("volume", "create", volume);
      expect(docker("run", "--rm", "-v", `${volume}:/data`, "--entrypoint", "sh", image, "-c", "stat -c %u /data && touch /data/x && echo written").trim()).toBe("100\nwritten");
    } finally {
      cleanupDocker({ volumes: [volume] });
    }
  });

  it("has git, busybox's shell tools and the entrypoint binary", () => {
    expect(run(["--version"], "git")).toMatch(/^git version \d+\.\d+/);
    expect(run(["-c", "echo ok | tr a-z A-Z | grep OK"], "sh")).toBe("OK");
    expect(run(["-c", "cd /tmp && git init -q r && cd r && git -c user.name=t -c user.email=t@t commit -q --allow-empty -m m && git rev-list --count HEAD"], "sh")).toBe("1");
    expect(run(["-c", "test -x /usr/bin/waypoint-entrypoint && test -f /etc/ssl/certs/ca-certificates.crt && echo present"], "sh")).toBe("present");
  });

  it("starts `waypoint server run` and answers over TLS on 9702", async () => {
    docker("volume", "create", volume);
    docker(
      "run", "-d", "--name", server, "-v", `${volume}:/data`, "-p", "127.0.0.1::9702", image,
      "server", "run", "-db=/data/data.db", "-listen-grpc=0.0.0.0:9701", "-listen-http=0.0.0.0:9702", "-url-enabled=false",
    );
    const port = Number(docker("port", server, "9702/tcp").trim().split("\n")[0].split(":").pop());
    let status: number | undefined;
    for (const started = Date.now(); status === undefined && Date.now() - started < 60_000; ) {
      status = await httpsStatus(port);
      if (status === undefined) await new Promise((r) => setTimeout(r, 500));
    }
    expect(status, docker("logs", server)).toBeGreaterThanOrEqual(100);
    expect(docker("exec", server, "stat", "-c", "%u", "/data/data.db").trim()).toBe("100");
  });
});

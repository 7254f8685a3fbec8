/**
 * `pilot new app` at a terminal: with no flags it asks (project, app,
 * builder, port, database), then writes what was answered; Ctrl-C at a
 * question writes nothing. Driven through a real pseudo-terminal (util-linux
 * `script`), so @clack/prompts runs exactly as it does for a person.
 */
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { StateStore } from "../../../src/state/store.js";
import { stackState, writeStack } from "../../support/app-stacks.js";
import { hasScript, KEY, Pty } from "../../support/pty.js";
import { CLI } from "../../support/run-cli.js";
import { tempHome } from "../../support/temp-home.js";

let t: ReturnType<typeof tempHome>;
let pty: Pty | undefined;
let dir: string;
beforeEach(() => {
  t = tempHome("pilot-tty-");
  dir = join(t.home, "web");
  mkdirSync(dir);
  writeStack(t.home, "default", stackState("local"));
});
afterEach(() => {
  pty?.kill();
  t.cleanup();
});

/** A terminal session's environment: not CI (Pilot asks nothing in CI), no engine to touch. */
function ttyEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, PILOT_HOME: t.home, TERM: "xterm-256color", DOCKER_HOST: "unix:///nonexistent/docker.sock" };
  delete env.CI;
  return env;
}

describe.skipIf(!hasScript())("pilot new app on a terminal", () => {
  it("asks what the flags left open and writes the answers", async () => {
    pty = new Pty([process.execPath, CLI, "new", "app", "--dir", dir], ttyEnv());
    let at = await pty.waitFor(/Project/);
    pty.write(`shop${KEY.enter}`);
    at = await pty.waitFor(/App/, undefined, at);
    pty.write(`web${KEY.enter}`);
    // A local stack runs apps only beside the server: no target question; next, the builder.
    at = await pty.waitFor(/How should it be built\?/, undefined, at);
    pty.write(KEY.down);
    await pty.waitFor(/pack: Cloud Native Buildpacks/, undefined, at);
    pty.write(KEY.enter);
    at = await pty.waitFor(/Port it listens on/, undefined, at);
    pty.write(`8080${KEY.enter}`);
    at = await pty.waitFor(/DATABASE_URL/, undefined, at);
    pty.write(KEY.enter); // the default: yes
    expect(await pty.exited).toBe(0);

    const text = readFileSync(join(dir, "waypoint.hcl"), "utf8");
    expect(text).toContain('project = "shop"');
    expect(text).toContain('app "web" {');
    expect(text).toContain('use "pack" {}');
    expect(text).toContain("service_port = 8080");
    expect(text).toContain("# DATABASE_URL is not in this file");
    expect(new StateStore(t.home, "default").load()!.apps!["shop/web"]).toMatchObject({ builder: "pack", port: 8080, withDb: true, target: "docker" });
  });

  it("asks only for what is missing, and Ctrl-C writes nothing", async () => {
    pty = new Pty([process.execPath, CLI, "new", "app", "--dir", dir, "--project", "shop", "--builder", "docker"], ttyEnv());
    const at = await pty.waitFor(/App/);
    expect(pty.output).not.toMatch(/Project/);
    pty.write(KEY.ctrlC);
    await pty.waitFor(/Cancelled; nothing was written\./, undefined, at);
    expect(await pty.exited).toBe(1);
    expect(existsSync(join(dir, "waypoint.hcl"))).toBe(false);
    expect(new StateStore(t.home, "default").load()!.apps ?? {}).toEqual({});
  });
});

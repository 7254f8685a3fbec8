/**
 * The app commands' bad input: one short sentence, exit 2, and nothing
 * touched (no stack is even looked for before the arguments are right).
 */
import { existsSync, readdirSync } from "node:fs";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { stackState, writeStack } from "../../support/app-stacks.js";
import { runCli } from "../../support/run-cli.js";
import { tempHome } from "../../support/temp-home.js";

let t: ReturnType<typeof tempHome>;
beforeEach(() => (t = tempHome()));
afterEach(() => t.cleanup());

async function usage(args: string[], message: RegExp, input?: string) {
  const r = await runCli(args, { PILOT_HOME: t.home }, { input });
  expect(r.code, r.stderr).toBe(2);
  expect(r.stderr).toMatch(message);
  expect(r.stderr.trim().split("\n").length).toBeLessThanOrEqual(2);
  expect(existsSync(t.home) ? readdirSync(t.home) : []).toEqual([]);
}

describe("app commands refuse bad input before doing anything", () => {
  it("pilot up / destroy / logs / env need PROJECT/APP with valid names", async () => {
    await usage(["up"], /needs the app as PROJECT\/APP/);
    await usage(["up", "shop"], /"shop" is not PROJECT\/APP/);
    await usage(["destroy", "Shop/web", "--yes"], /--project "Shop" is not a valid name/);
    await usage(["logs", "shop/web/x"], /not PROJECT\/APP/);
    await usage(["logs", "shop/web", "--tail", "many"], /--tail "many" is not a number/);
  });

  it("pilot env set needs KEY=VALUE pairs with valid names, one of them at most from stdin", async () => {
    await usage(["env", "set", "shop/web"], /at least one KEY=VALUE/);
    await usage(["env", "set", "shop/web", "1BAD=x"], /"1BAD" is not a variable name/);
    await usage(["env", "set", "shop/web", "NOEQUALS"], /"NOEQUALS" is not KEY=VALUE/);
    await usage(["env", "set", "shop/web", "A=-", "B=-"], /Only one KEY=- can read its value from stdin/, "x\n");
    await usage(["env", "unset", "shop/web"], /at least one KEY/);
  });

  it("pilot new project checks its name, URL, ref and credentials first", async () => {
    await usage(["new", "project", "--git-url", "https://h/r.git"], /NAME is missing/);
    await usage(["new", "project", "shop"], /--git-url is required/);
    await usage(["new", "project", "shop", "--git-url", "not a url"], /is not a git URL/);
    await usage(["new", "project", "shop", "--git-url", "https://h/r.git", "--git-ref", "a..b"], /is not a valid git ref/);
    await usage(["new", "project", "shop", "--git-url", "https://h/r.git", "--git-user", "u"], /--git-user and --git-password-stdin go together/);
    await usage(["new", "project", "shop", "--git-url", "https://h/r.git", "--git-ssh-key", "/nonexistent/key"], /cannot be read: ENOENT/);
    await usage(["new", "project", "shop", "--git-url", "git@h:r.git", "--git-ssh-key", "/etc/hostname", "--git-user", "u", "--git-password-stdin"], /Choose one way to authenticate/);
    await usage(["new", "project", "shop", "--git-url", "https://h/r.git", "--git-user", "u", "--git-password-stdin"], /read no password/, "");
  });

  it("a stack that does not exist is named as such, after the arguments passed", async () => {
    const r = await runCli(["up", "shop/web"], { PILOT_HOME: t.home });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/Stack "default" does not exist/);
  });
});

describe("pilot destroy of a Cloud Run app", () => {
  it("--dry-run names its secrets in Secret Manager among what it would remove, and touches nothing", async () => {
    const app = { project: "shop", app: "web", target: "cloud-run" as const, builder: "docker" as const, port: 8080, withDb: true, dir: "/x", createdAt: "now", public: false };
    writeStack(t.home, "default", stackState("gcp", { apps: { "shop/web": app } }));
    const r = await runCli(["destroy", "shop/web", "--dry-run", "--json"], { PILOT_HOME: t.home, PILOT_GCP_ENDPOINT: "http://127.0.0.1:9" });
    expect(r.code, r.stderr).toBe(0);
    expect(r.json.wouldRemove).toEqual(["shop/web's deployments and releases", "its secrets in Secret Manager (pilot-default_shop_web_*)"]);
  });
});

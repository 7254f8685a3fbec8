/**
 * State version 2: `apps` (what `pilot new app` records), and the upgrade of a version 1 file;
 * version 3: an ECS app's `secretsVariable`, and the upgrade of a version 2 file.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { migrate } from "../../../src/state/migrations.js";
import { STATE_VERSION } from "../../../src/state/schema.js";
import { StateStore, validateState } from "../../../src/state/store.js";
import { stackState, writeStack } from "../../support/app-stacks.js";
import { tempHome } from "../../support/temp-home.js";

let t: ReturnType<typeof tempHome>;
beforeEach(() => (t = tempHome()));
afterEach(() => t.cleanup());

const example = (name: string) => JSON.parse(readFileSync(new URL(`../../../state/examples/${name}.json`, import.meta.url), "utf8"));
const v1 = () => example("v1-aws");

describe("state version 2: apps", () => {
  it("a version 1 file migrates to the current version with an empty apps record, and validates", () => {
    expect(STATE_VERSION).toBe(3);
    const up = migrate(v1());
    expect(up).toMatchObject({ version: 3, apps: {} });
    expect(validateState(up)).toBeUndefined();
  });

  it("the store reads a version 1 file as the current version and writes it back as such", async () => {
    const file = writeStack(t.home, "old", v1());
    const store = new StateStore(t.home, "old");
    expect(store.load()).toMatchObject({ version: 3, apps: {} });
    const lock = store.lock("test");
    await store.update(() => undefined);
    lock.release();
    expect(JSON.parse(readFileSync(file, "utf8")).version).toBe(3);
  });

  it("an app record must be complete and keyed PROJECT/APP", () => {
    const app = { project: "shop", app: "web", target: "docker", builder: "docker", port: 8080, withDb: false, dir: "/x", createdAt: "t" };
    expect(validateState(stackState("local", { apps: { "shop/web": app as never } }))).toBeUndefined();
    expect(validateState(stackState("local", { apps: { "shop/web": { ...app, port: 0 } as never } }))).toMatch(/port/);
    expect(validateState(stackState("local", { apps: { "shop/web": { ...app, target: "lambda" } as never } }))).toBeDefined();
    expect(validateState(stackState("local", { apps: { web: app as never } }))).toBeDefined();
    const { dir: _dir, ...noDir } = app;
    expect(validateState(stackState("local", { apps: { "shop/web": noDir as never } }))).toMatch(/dir/);
  });

  it("a newer version is refused, not called damaged", () => {
    const file = writeStack(t.home, "new", stackState("local"));
    writeFileSync(file, JSON.stringify({ ...stackState("local"), version: STATE_VERSION + 1 }));
    expect(() => new StateStore(t.home, "new").load()).toThrow(/written by a newer Pilot/);
  });
});

describe("state version 3: an ECS app's secrets variable", () => {
  it("a version 2 file migrates unchanged but for its version: its apps have no secrets variable (their waypoint.hcl declares none)", () => {
    const v2 = example("v2-aws");
    const up = migrate(v2);
    expect(up).toEqual({ ...v2, version: 3 });
    expect((up.apps as Record<string, object>)["shop/web"]).not.toHaveProperty("secretsVariable");
    expect(validateState(up)).toBeUndefined();
  });

  it("the version 3 example records it, and it must be an HCL identifier", () => {
    const v3 = example("v3-aws");
    expect(v3.apps["shop/web"].secretsVariable).toBe("pilot_secrets_web");
    expect(validateState(v3)).toBeUndefined();
    v3.apps["shop/web"].secretsVariable = "pilot secrets";
    expect(validateState(v3)).toMatch(/secretsVariable/);
  });
});

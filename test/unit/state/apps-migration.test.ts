/** State version 2: `apps` (what `pilot new app` records), and the upgrade of a version 1 file. */
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

const v1 = () => JSON.parse(readFileSync(new URL("../../../state/examples/v1-aws.json", import.meta.url), "utf8"));

describe("state version 2: apps", () => {
  it("a version 1 file migrates to version 2 with an empty apps record, and validates", () => {
    expect(STATE_VERSION).toBe(2);
    const up = migrate(v1());
    expect(up).toMatchObject({ version: 2, apps: {} });
    expect(validateState(up)).toBeUndefined();
  });

  it("the store reads a version 1 file as version 2 and writes it back as such", async () => {
    const file = writeStack(t.home, "old", v1());
    const store = new StateStore(t.home, "old");
    expect(store.load()).toMatchObject({ version: 2, apps: {} });
    const lock = store.lock("test");
    await store.update(() => undefined);
    lock.release();
    expect(JSON.parse(readFileSync(file, "utf8")).version).toBe(2);
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

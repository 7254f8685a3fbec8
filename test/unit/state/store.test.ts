import { existsSync, readFileSync, statSync, writeFileSync, readdirSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { forceUnlock } from "../../../src/state/lock.js";
import { migrate } from "../../../src/state/migrations.js";
import { stateSchema, STATE_VERSION } from "../../../src/state/schema.js";
import { StateStore, validateState } from "../../../src/state/store.js";
import { tempHome } from "../../support/temp-home.js";

let t: ReturnType<typeof tempHome>;
beforeEach(() => (t = tempHome()));
afterEach(() => t.cleanup());

const mode = (f: string) => statSync(f).mode & 0o777;

describe("StateStore", () => {
  it("round-trips a state with mode 0600, bumping the serial and keeping a backup", async () => {
    const store = new StateStore(t.home, "dev");
    store.init("aws", { region: "us-east-1" });
    await store.save();
    expect(mode(store.file)).toBe(0o600);
    expect(existsSync(`${store.file}.backup`)).toBe(false);
    await store.update((s) => {
      s.secrets.dbPassword = "hunter2-very-secret";
    });
    const loaded = new StateStore(t.home, "dev").load()!;
    expect(loaded.serial).toBe(2);
    expect(loaded.settings).toEqual({ region: "us-east-1" });
    expect(mode(`${store.file}.backup`)).toBe(0o600);
    expect(JSON.parse(readFileSync(`${store.file}.backup`, "utf8")).serial).toBe(1);
    expect(mode(store.dir)).toBe(0o700);
  });

  it("serialises concurrent updates so none is lost", async () => {
    const store = new StateStore(t.home, "dev");
    store.init("aws", {});
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        store.update((s) => {
          s.resources[`r${i}`] = { type: "t", status: "created", token: `t${i}`, id: `id${i}`, dependsOn: [] };
        }),
      ),
    );
    const loaded = new StateStore(t.home, "dev").load()!;
    expect(Object.keys(loaded.resources)).toHaveLength(20);
    expect(loaded.serial).toBe(20);
    // No temp files are left behind by the atomic writes.
    expect(readdirSync(store.dir).sort()).toEqual(["state.json", "state.json.backup"]);
  });

  it("never leaves a torn file: a writer killed mid-way leaves the old state readable", async () => {
    const store = new StateStore(t.home, "dev");
    store.init("aws", {});
    await store.save();
    const before = readFileSync(store.file, "utf8");
    // A child process (the built store, `npm run build`) writes large states in a loop and is killed mid-way.
    const script = `
      import { StateStore } from ${JSON.stringify(new URL("../../../dist/state/store.js", import.meta.url).pathname)};
      const s = new StateStore(${JSON.stringify(t.home)}, "dev"); s.load();
      for (let i = 0; ; i++) { await s.update((st) => { st.settings.blob = "x".repeat(200000 + i); }); }
    `;
    const child = spawnSync(process.execPath, ["--input-type=module", "-e", script], { timeout: 1500, killSignal: "SIGKILL" });
    expect(child.signal).toBe("SIGKILL");
    const after = new StateStore(t.home, "dev").load()!;
    expect(after.lineage).toBe(JSON.parse(before).lineage);
  });

  it("refuses a corrupt file, names it, and leaves it byte for byte untouched", () => {
    const store = new StateStore(t.home, "dev");
    store.init("aws", {});
    return store.save().then(() => {
      writeFileSync(store.file, '{"version": 1, "lineage": "oops"');
      const torn = readFileSync(store.file);
      expect(() => new StateStore(t.home, "dev").load()).toThrow(new RegExp(`${store.file.replace(/[/.]/g, "\\$&")} is damaged`));
      expect(readFileSync(store.file).equals(torn)).toBe(true);
      writeFileSync(store.file, JSON.stringify({ version: 1, lineage: "not-a-uuid" }));
      const invalid = readFileSync(store.file);
      expect(() => new StateStore(t.home, "dev").load()).toThrow(/damaged \(.*required property/);
      expect(readFileSync(store.file).equals(invalid)).toBe(true);
      expect(existsSync(`${store.file}.backup`)).toBe(false);
    });
  });

  it("refuses a state written by a newer Pilot", () => {
    const store = new StateStore(t.home, "dev");
    store.init("aws", {});
    return store.save().then(() => {
      const doc = JSON.parse(readFileSync(store.file, "utf8"));
      writeFileSync(store.file, JSON.stringify({ ...doc, version: STATE_VERSION + 1 }));
      expect(() => new StateStore(t.home, "dev").load()).toThrow(/newer Pilot/);
    });
  });
});

describe("migrate", () => {
  it("applies each step in order up to the target version", () => {
    const steps = {
      1: (s: Record<string, unknown>) => ({ ...s, renamed: s.old }),
      2: (s: Record<string, unknown>) => ({ ...s, added: true }),
    };
    expect(migrate({ version: 1, old: "x" }, steps, 3)).toEqual({ version: 3, old: "x", renamed: "x", added: true });
  });
  it("stops with a clear error when a step is missing", () => {
    expect(() => migrate({ version: 0 }, {}, 1)).toThrow(/State version 0 is too old/);
  });
});

describe("lock", () => {
  it("lets one holder in and tells the second who holds it", () => {
    const a = new StateStore(t.home, "dev");
    const lock = a.lock("up-server");
    expect(() => new StateStore(t.home, "dev").lock("teardown")).toThrow(
      new RegExp(`locked by pid ${process.pid} on ${hostname()} \\(pilot up-server`),
    );
    lock.release();
    new StateStore(t.home, "dev").lock("teardown").release();
  });

  it("reclaims a lock whose holder died on this host", () => {
    const store = new StateStore(t.home, "dev");
    store.lock("x").release();
    const dead = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"]).stdout.toString();
    writeFileSync(store.lockFile, JSON.stringify({ pid: Number(dead), host: hostname(), startedAt: "then", command: "up-server" }));
    const lock = store.lock("up-server");
    expect(lock.reclaimed?.pid).toBe(Number(dead));
    lock.release();
  });

  it("unlock refuses a live holder, and needs --force for another host", () => {
    const store = new StateStore(t.home, "dev");
    const lock = store.lock("up-server");
    expect(() => forceUnlock(store.lockFile, "dev", false)).toThrow(/still running/);
    lock.release();
    writeFileSync(store.lockFile, JSON.stringify({ pid: 1, host: "elsewhere", startedAt: "then", command: "up-server" }));
    expect(() => forceUnlock(store.lockFile, "dev", false)).toThrow(/another machine/);
    expect(forceUnlock(store.lockFile, "dev", true)?.host).toBe("elsewhere");
    expect(existsSync(store.lockFile)).toBe(false);
  });
});

describe("schema", () => {
  it("state/schema.json is the schema in code", () => {
    const file = join(new URL("../../../state/schema.json", import.meta.url).pathname);
    expect(JSON.parse(readFileSync(file, "utf8"))).toEqual(JSON.parse(JSON.stringify(stateSchema)));
  });
  it("every example under state/examples validates", () => {
    const dir = new URL("../../../state/examples/", import.meta.url).pathname;
    const files = readdirSync(dir).filter((f) => f.endsWith(".json"));
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) expect(validateState(JSON.parse(readFileSync(join(dir, f), "utf8"))), f).toBeUndefined();
  });
  it("rejects a created resource without an id", () => {
    const doc = { version: 1, lineage: "123e4567-e89b-42d3-a456-426614174000", serial: 1, provider: "aws", settings: {}, secrets: {}, server: {}, resources: { vpc: { type: "aws.ec2.vpc", status: "created", token: "t", dependsOn: [] } } };
    expect(validateState(doc)).toMatch(/id/);
  });
});

import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync, readdirSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { spawn, spawnSync } from "node:child_process";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { acquireLock, forceUnlock, isProcessAlive, isStale, readLockHolder } from "../../../src/state/lock.js";
import { migrate } from "../../../src/state/migrations.js";
import { stateSchema, STATE_VERSION } from "../../../src/state/schema.js";
import { StateStore, validateState } from "../../../src/state/store.js";
import { tempHome } from "../../support/temp-home.js";

let t: ReturnType<typeof tempHome>;
beforeEach(() => (t = tempHome()));
afterEach(() => t.cleanup());

const mode = (f: string) => statSync(f).mode & 0o777;

/** What the writer prints once half of a large write is on disk and it is about to stop. */
const MID_WRITE = "pilot-test: mid-write";

/**
 * Runs the real store (src/, through tsx) in a child process whose file
 * writes of more than 100 kB stop half-way: the first half reaches the disk
 * (fsynced), the child prints MID_WRITE and blocks, and is then killed with
 * SIGKILL. The two ways a synchronous writer puts bytes into a file are
 * intercepted, `writeSync` and `writeFileSync`, so the kill lands inside
 * whatever write the store does (temp file or the state file itself), every
 * run, instead of at a time that may fall between writes.
 */
async function killMidWrite(home: string, stack: string): Promise<{ signal: NodeJS.Signals | null; stdout: string }> {
  const storeModule = new URL("../../../src/state/store.ts", import.meta.url).pathname;
  const script = `
    import fs from "node:fs";
    import { syncBuiltinESMExports } from "node:module";
    const BIG = 100000;
    const realWriteSync = fs.writeSync;
    const realFsync = fs.fsyncSync;
    const halt = () => {
      realWriteSync(1, ${JSON.stringify(MID_WRITE + "\n")});
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0); // blocks until killed
    };
    const bytesOf = (data, offset, length) => {
      if (typeof data === "string") return Buffer.from(data);
      const all = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
      const from = typeof offset === "number" ? offset : 0;
      return all.subarray(from, typeof length === "number" ? from + length : all.length);
    };
    const halfThenHalt = (fd, bytes) => {
      realWriteSync(fd, bytes.subarray(0, bytes.length >> 1));
      realFsync(fd);
      halt();
    };
    fs.writeSync = function (fd, data, offset, length, ...rest) {
      const bytes = bytesOf(data, offset, length);
      if (fd > 2 && bytes.length > BIG) halfThenHalt(fd, bytes);
      return realWriteSync.call(fs, fd, data, offset, length, ...rest);
    };
    const realWriteFileSync = fs.writeFileSync;
    fs.writeFileSync = function (file, data, options) {
      const bytes = typeof file !== "number" ? bytesOf(data) : Buffer.alloc(0);
      if (bytes.length > BIG) {
        const o = typeof options === "object" && options ? options : {};
        halfThenHalt(fs.openSync(file, o.flag ?? "w", o.mode ?? 0o666), bytes);
      }
      return realWriteFileSync.call(fs, file, data, options);
    };
    syncBuiltinESMExports();
    const { StateStore } = await import(${JSON.stringify(storeModule)});
    const s = new StateStore(${JSON.stringify(home)}, ${JSON.stringify(stack)});
    s.load();
    await s.update((st) => { st.settings.blob = "x".repeat(300000); });
    console.log("the write finished without being stopped");
  `;
  const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], { stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stderr.on("data", (d) => (stderr += d));
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on("close", (_code, signal) => resolve(signal)));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the writer never reached a write (stdout: ${stdout}, stderr: ${stderr})`)), 30_000);
    child.stdout.on("data", (d) => {
      stdout += d;
      if (stdout.includes(MID_WRITE)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.on("close", () => {
      clearTimeout(timer);
      if (!stdout.includes(MID_WRITE)) reject(new Error(`the writer exited before a write was stopped (stdout: ${stdout}, stderr: ${stderr})`));
    });
  });
  child.kill("SIGKILL");
  return { signal: await exited, stdout };
}

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

  it("never leaves a torn file: a writer killed in the middle of a write leaves the previous state readable", async () => {
    const store = new StateStore(t.home, "dev");
    store.init("aws", {});
    await store.save();
    const before = readFileSync(store.file, "utf8");
    const { signal, stdout } = await killMidWrite(t.home, "dev");
    // Proof that the kill landed inside a write: the child said so only after half the new state was on disk.
    expect(stdout).toContain(MID_WRITE);
    expect(signal).toBe("SIGKILL");
    // The state file is still the previous one, byte for byte: the half-written bytes never took its name.
    expect(readFileSync(store.file, "utf8")).toBe(before);
    const after = new StateStore(t.home, "dev").load()!;
    expect(after.serial).toBe(JSON.parse(before).serial);
    expect(after.settings.blob).toBeUndefined();
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

describe("StateStore: what it says and refuses", () => {
  it("names every schema problem (not only the first) with its path, and the backup to restore from", async () => {
    const store = new StateStore(t.home, "dev");
    store.init("aws", {});
    await store.save();
    writeFileSync(store.file, JSON.stringify({ version: STATE_VERSION, lineage: "123e4567-e89b-42d3-a456-426614174000", serial: 1, provider: "aws", settings: {}, server: {}, resources: { vpc: { type: "aws.ec2.vpc", status: "created", token: "t", dependsOn: [] } } }));
    let err: any;
    try {
      new StateStore(t.home, "dev").load();
    } catch (e) {
      err = e;
    }
    // At most three problems, each "path message", joined with "; ".
    expect(err.message).toMatch(/is damaged \(\/ must have required property 'secrets'; \/resources\/vpc must have required property 'id'; \/resources\/vpc [^;]+\); Pilot left it untouched\.$/);
    expect(err.hint).toBe(`Restore it from ${store.file}.backup or fix it by hand, then run the command again.`);
    writeFileSync(store.file, "{not json");
    expect(() => new StateStore(t.home, "dev").load()).toThrow(/is damaged \(it is not valid JSON\)/);
  });

  it("says a newer Pilot wrote the file, and how to go on", async () => {
    const store = new StateStore(t.home, "dev");
    store.init("aws", {});
    await store.save();
    writeFileSync(store.file, JSON.stringify({ version: STATE_VERSION + 1 }));
    let err: any;
    try {
      new StateStore(t.home, "dev").load();
    } catch (e) {
      err = e;
    }
    expect(err.message).toBe(`The state file ${store.file} was written by a newer Pilot (state version ${STATE_VERSION + 1}).`);
    expect(err.hint).toMatch(/^Upgrade Pilot/);
  });

  it("a state file it cannot read (not a file) is an error that names it, not a missing stack", () => {
    const store = new StateStore(t.home, "dev");
    expect(store.exists()).toBe(false);
    expect(store.load()).toBeUndefined();
    mkdirSync(store.file, { recursive: true });
    expect(store.exists()).toBe(true);
    expect(() => store.load()).toThrow(new RegExp(`Cannot read the state file ${store.file.replace(/[/.]/g, "\\$&")}: `));
  });

  it("refuses to write a state that breaks the schema, leaving the file as it was", async () => {
    const store = new StateStore(t.home, "dev");
    await expect(store.update(() => undefined)).rejects.toThrow(/state not loaded/);
    store.init("aws", {});
    await store.save();
    const before = readFileSync(store.file, "utf8");
    expect(before.endsWith("}\n")).toBe(true);
    await expect(store.update((s) => ((s as any).lineage = "not-a-uuid"))).rejects.toThrow(/^refusing to write an invalid state \(\/lineage must /);
    expect(readFileSync(store.file, "utf8")).toBe(before);
  });

  it("leaves no file descriptor open behind its writes", async () => {
    const store = new StateStore(t.home, "dev");
    store.init("aws", {});
    const open = () => readdirSync("/proc/self/fd").length;
    await store.save();
    const before = open();
    for (let i = 0; i < 20; i++) await store.save();
    expect(open()).toBe(before);
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

  it("never takes over a lock held on another machine, even when that pid is not running here", () => {
    const store = new StateStore(t.home, "dev");
    store.lock("x").release();
    const dead = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"]).stdout.toString();
    const elsewhere = JSON.stringify({ pid: Number(dead), host: `not-${hostname()}`, startedAt: "then", command: "up-server" });
    writeFileSync(store.lockFile, elsewhere);
    expect(() => store.lock("up-server")).toThrow(new RegExp(`locked by pid ${dead} on not-${hostname()} \\(pilot up-server`));
    // The other machine's lock is left exactly as it was.
    expect(readFileSync(store.lockFile, "utf8")).toBe(elsewhere);
    expect(isStale(JSON.parse(elsewhere))).toBe(false);
  });

  it("a process that exists but belongs to another user (EPERM) is alive; only ESRCH means gone", () => {
    // Tests run as root, who may signal anyone: the kernel's answer for someone else's process is played here.
    const kill = vi.spyOn(process, "kill").mockImplementation((pid) => {
      throw Object.assign(new Error(`kill ${pid}`), { code: pid === 4242 ? "EPERM" : "ESRCH" });
    });
    try {
      expect(isProcessAlive(4242)).toBe(true);
      expect(isProcessAlive(4343)).toBe(false);
      expect(kill).toHaveBeenCalledWith(4242, 0);
    } finally {
      kill.mockRestore();
    }
  });

  it("does not take over, nor unlock, a lock whose holder runs as another user on this host", () => {
    const store = new StateStore(t.home, "dev");
    store.lock("x").release();
    const held = JSON.stringify({ pid: 4242, host: hostname(), startedAt: "then", command: "up-server" });
    writeFileSync(store.lockFile, held);
    const kill = vi.spyOn(process, "kill").mockImplementation((pid) => {
      throw Object.assign(new Error(`kill ${pid}`), { code: "EPERM" });
    });
    try {
      expect(() => store.lock("teardown")).toThrow(/locked by pid 4242 on/);
      expect(() => forceUnlock(store.lockFile, "dev", false)).toThrow(/still running/);
    } finally {
      kill.mockRestore();
    }
    expect(readFileSync(store.lockFile, "utf8")).toBe(held);
  });

  it("an unreadable lock file counts as held, and is never taken over", () => {
    const store = new StateStore(t.home, "dev");
    store.lock("x").release();
    writeFileSync(store.lockFile, '{"pid": 12');
    expect(readLockHolder(store.lockFile)).toMatchObject({ pid: -1, host: "unknown" });
    expect(() => store.lock("up-server")).toThrow(/locked by pid -1 on unknown/);
    expect(readFileSync(store.lockFile, "utf8")).toBe('{"pid": 12');
  });

  it("an unreadable lock's holder is unknown in every field; a missing lock has none", () => {
    const store = new StateStore(t.home, "dev");
    expect(readLockHolder(store.lockFile)).toBeUndefined();
    expect(forceUnlock(store.lockFile, "dev", false)).toBeUndefined();
    store.lock("x").release();
    writeFileSync(store.lockFile, "{");
    expect(readLockHolder(store.lockFile)).toEqual({ pid: -1, host: "unknown", startedAt: "unknown", command: "unknown" });
  });

  it("a holder without a real pid is never stale, even when no such process answers", () => {
    const kill = vi.spyOn(process, "kill").mockImplementation(() => {
      throw Object.assign(new Error("no such process"), { code: "ESRCH" });
    });
    try {
      expect(isStale({ pid: 0, host: hostname(), startedAt: "then", command: "x" })).toBe(false);
      expect(isStale({ pid: -1, host: hostname(), startedAt: "then", command: "x" })).toBe(false);
      expect(isStale({ pid: 7, host: hostname(), startedAt: "then", command: "x" })).toBe(true);
    } finally {
      kill.mockRestore();
    }
  });

  it("a second release() does not remove the lock someone else took since", () => {
    const store = new StateStore(t.home, "dev");
    const first = store.lock("up-server");
    first.release();
    const second = new StateStore(t.home, "dev").lock("teardown");
    first.release();
    expect(readLockHolder(store.lockFile)?.command).toBe("teardown");
    second.release();
    expect(existsSync(store.lockFile)).toBe(false);
  });

  it("the refusal says how to go on; an error other than 'exists' is not read as a held lock", () => {
    const store = new StateStore(t.home, "dev");
    const lock = store.lock("up-server");
    let err: any;
    try {
      new StateStore(t.home, "dev").lock("teardown");
    } catch (e) {
      err = e;
    }
    expect(err.hint).toBe("Wait for it to finish; if that process is gone, run `pilot unlock --name dev`.");
    lock.release();
    expect(() => acquireLock(join(t.home, "no-such-folder", "state.lock"), "dev", "x")).toThrow(/ENOENT/);
  });

  it("unlock clears the lock of a holder that died on this host without --force, and says why it refuses the others", () => {
    const store = new StateStore(t.home, "dev");
    store.lock("x").release();
    const dead = Number(spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"]).stdout.toString());
    writeFileSync(store.lockFile, JSON.stringify({ pid: dead, host: hostname(), startedAt: "then", command: "up-server" }));
    expect(forceUnlock(store.lockFile, "dev", false)?.pid).toBe(dead);
    expect(existsSync(store.lockFile)).toBe(false);

    const live = store.lock("up-server");
    let err: any;
    try {
      forceUnlock(store.lockFile, "dev", false);
    } catch (e) {
      err = e;
    }
    expect(err.hint).toMatch(/^Let it finish or stop it first/);
    live.release();
    writeFileSync(store.lockFile, JSON.stringify({ pid: 1, host: "elsewhere", startedAt: "then", command: "up-server" }));
    try {
      forceUnlock(store.lockFile, "dev", false);
    } catch (e) {
      err = e;
    }
    expect(err.hint).toBe("If you are sure it is not running, run `pilot unlock --name dev --force`.");
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

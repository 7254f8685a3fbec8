/**
 * The stack's Waypoint CLI context is removed at teardown the way
 * `waypoint context delete` removes one (clicontext/storage.go): the file,
 * and the default pointer (`_default.hcl`, a symlink or a file holding the
 * name) only when it names this context. The e2e tier checks the same with
 * the real CLI (test/e2e/local/side-by-side.test.ts).
 */
import { existsSync, lstatSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { removeWaypointContext, waypointDefaultContext, writeWaypointContext } from "../../../src/bootstrap/waypoint-context.js";

let configDir: string;
let dir: string;
beforeEach(() => {
  configDir = mkdtempSync(join(tmpdir(), "pilot-wpctx-"));
  dir = join(configDir, "context");
});
afterEach(() => rmSync(configDir, { recursive: true, force: true }));

const write = (stack: string) => writeWaypointContext({ stack, address: "127.0.0.1:9701", token: "t", caPath: "/ca.pem", configDir }).path;
const exists = (p: string) => {
  try {
    lstatSync(p);
    return true;
  } catch {
    return false;
  }
};

describe("removeWaypointContext", () => {
  it("unsets a default symlink that points at the stack's context", () => {
    const path = write("a");
    symlinkSync(path, join(dir, "_default.hcl")); // what `waypoint context use pilot-a` makes
    expect(waypointDefaultContext(dir)).toBe("pilot-a");
    expect(removeWaypointContext({ stack: "a", configDir })).toEqual({ defaultUnset: true });
    expect(existsSync(path)).toBe(false);
    expect(exists(join(dir, "_default.hcl"))).toBe(false);
  });

  it("unsets a plain-file default naming the stack's context (Waypoint's fallback where symlinks fail)", () => {
    write("a");
    writeFileSync(join(dir, "_default.hcl"), "pilot-a");
    expect(removeWaypointContext({ stack: "a", configDir })).toEqual({ defaultUnset: true });
    expect(exists(join(dir, "_default.hcl"))).toBe(false);
  });

  it("leaves a default that points at another context, and works with no default or no context", () => {
    const a = write("a");
    const b = write("b");
    symlinkSync(b, join(dir, "_default.hcl"));
    expect(removeWaypointContext({ stack: "a", configDir })).toEqual({ defaultUnset: false });
    expect(existsSync(a)).toBe(false);
    expect(waypointDefaultContext(dir)).toBe("pilot-b");
    expect(existsSync(join(dir, "_default.hcl"))).toBe(true);
    rmSync(join(dir, "_default.hcl"));
    expect(removeWaypointContext({ stack: "b", configDir })).toEqual({ defaultUnset: false });
    expect(removeWaypointContext({ stack: "never", configDir: join(configDir, "missing") })).toEqual({ defaultUnset: false });
  });

  it("also unsets a default left dangling by an earlier removal of the file", () => {
    const path = write("a");
    symlinkSync(path, join(dir, "_default.hcl"));
    rmSync(path);
    expect(removeWaypointContext({ stack: "a", configDir })).toEqual({ defaultUnset: true });
    expect(exists(join(dir, "_default.hcl"))).toBe(false);
  });
});

import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { shellJoin, shellQuote } from "../../../src/bootstrap/shell-quote.js";

const HOSTILE = [
  "",
  " ",
  "plain",
  "it's",
  "''",
  "'",
  "\"double\"",
  "$(touch /tmp/pwned)",
  "`id`",
  "${HOME}",
  "$HOME",
  "a;b",
  "a && b || c",
  "a|b",
  "> /etc/passwd",
  "line1\nline2",
  "tab\there",
  "trailing\\",
  "\\'",
  "*",
  "~",
  "-n",
  "--",
  "!",
  "héllo wörld ✓ 日本",
  "emoji 🚀",
  "\r\n",
  "{a,b}",
  "#comment",
  "=",
];

describe("shellQuote", () => {
  it("leaves plain words alone and quotes everything else", () => {
    expect(shellQuote("docker")).toBe("docker");
    expect(shellQuote("--format={{.Name}}")).toBe("'--format={{.Name}}'");
    expect(shellQuote("a b")).toBe("'a b'");
    expect(shellQuote("")).toBe("''");
    expect(shellQuote("it's")).toBe("'it'\\''s'");
    expect(shellQuote("$(id)")).toBe("'$(id)'");
    expect(shellQuote("`id`")).toBe("'`id`'");
    expect(shellQuote("a\nb")).toBe("'a\nb'");
  });

  it("refuses NUL, which no exec can carry", () => {
    expect(() => shellQuote("a\0b")).toThrow(/NUL/);
  });

  it("round-trips hostile arguments through a real POSIX shell unchanged, one argument each", () => {
    // printf prints each argument followed by a NUL, so we can split exactly.
    const line = shellJoin(["printf", "%s\\0", ...HOSTILE]);
    const r = spawnSync("/bin/sh", ["-c", line], { encoding: "utf8" });
    expect(r.status).toBe(0);
    const args = r.stdout.split("\0").slice(0, -1);
    expect(args).toEqual(HOSTILE);
  });

  it("joins argv with spaces and refuses an empty argv", () => {
    expect(shellJoin(["sudo", "-n", "docker", "inspect", "--format", "{{.State.Running}} x", "c"])).toBe(
      "sudo -n docker inspect --format '{{.State.Running}} x' c",
    );
    expect(() => shellJoin([])).toThrow("shellJoin: empty argv");
  });
});

/**
 * The fixed shell line every app command runs in the server container,
 * executed here by a real shell (busybox's, the real image's shell, when the
 * machine has it) with a `waypoint` on PATH that reports what it was given.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { SESSION_SCRIPT, STOP_SCRIPT } from "../../../src/apps/server-session.js";
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";

const bin = mkdtempSync(join(tmpdir(), "pilot-session-"));
afterAll(() => rmSync(bin, { recursive: true, force: true }));
writeFileSync(
  join(bin, "waypoint"),
  [
    "#!/bin/sh",
    'echo "argv: $*"',
    'echo "token: $WAYPOINT_SERVER_TOKEN"',
    'echo "cwd: $(ls -A | tr "\\n" " ")"',
    'for f in *; do [ -f "$f" ] && echo "file $f: $(cat "$f")"; done',
    'echo "stdin: $(cat)"',
    'pwd > "$PILOT_TEST_DIR_FILE"',
  ].join("\n"),
);
chmodSync(join(bin, "waypoint"), 0o755);
const shell = existsSync("/bin/busybox") ? ["/bin/busybox", "sh"] : ["sh"];

function run(files: Record<string, string>, input: string, args: string[]) {
  const dirFile = join(bin, "dir");
  const stdin = ["tok-123\n", ...Object.values(files).map((c) => Buffer.from(c).toString("base64") + "\n"), input].join("");
  const r = spawnSync(shell[0]!, [...shell.slice(1), "-c", SESSION_SCRIPT, "waypoint", ...args], {
    input: stdin,
    encoding: "utf8",
    env: { PATH: `${bin}:/usr/bin:/bin`, PILOT_FILES: Object.keys(files).join(" "), PILOT_TEST_DIR_FILE: dirFile },
  });
  return { ...r, dir: existsSync(dirFile) ? spawnSync("cat", [dirFile], { encoding: "utf8" }).stdout.trim() : "" };
}

describe("the server session's shell line", () => {
  it("token into the environment, files decoded into an empty private folder, the rest of stdin to the CLI", () => {
    const key = "-----BEGIN KEY-----\nsecret line\n-----END KEY-----";
    const r = run({ "source.hcl": 'project = "x"', "key.pem": key }, "GREETING=hi\n", ["project", "apply", "-from-waypoint-hcl=source.hcl", "x"]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain("argv: project apply -from-waypoint-hcl=source.hcl x");
    expect(r.stdout).toContain("token: tok-123");
    expect(r.stdout).toContain("cwd: key.pem source.hcl");
    expect(r.stdout).toContain('file source.hcl: project = "x"');
    expect(r.stdout).toContain("file key.pem: -----BEGIN KEY-----\nsecret line\n-----END KEY-----");
    expect(r.stdout).toContain("stdin: GREETING=hi");
    // The folder (and every secret written to it) is gone once the command ends.
    expect(r.dir).not.toBe("");
    expect(existsSync(r.dir)).toBe(false);
  });

  it("with no files, the CLI runs in an empty folder (no stray waypoint.hcl) and keeps its exit status", () => {
    const r = run({}, "", ["up", "-project=p"]);
    expect(r.stdout).toContain("cwd: \n");
    expect(r.status).toBe(0);
    const failing = spawnSync(shell[0]!, [...shell.slice(1), "-c", SESSION_SCRIPT.replace('waypoint "$@"', "false"), "waypoint"], { input: "tok\n", encoding: "utf8" });
    expect(failing.status).toBe(1);
  });

  it("a watched run (PILOT_JOB) keeps the CLI's pid where the stop line finds it, and the stop line ends that CLI", async () => {
    const slow = join(bin, "slow");
    writeFileSync(join(slow + ".sh"), '#!/bin/sh\necho started; exec sleep 30\n');
    chmodSync(slow + ".sh", 0o755);
    const id = randomBytes(6).toString("hex");
    const child = spawn(shell[0]!, [...shell.slice(1), "-c", SESSION_SCRIPT.replace('waypoint "$@" </dev/null &', `${slow}.sh </dev/null &`), "waypoint", "up"], {
      env: { PATH: "/usr/bin:/bin", PILOT_FILES: "", PILOT_JOB: id },
    });
    child.stdin.end("tok\n");
    const exited = new Promise<number | null>((resolve) => child.on("close", resolve));
    await new Promise((resolve) => child.stdout.once("data", resolve));
    const pidFile = `/tmp/pilot-job.${id}`;
    expect(existsSync(pidFile)).toBe(true);
    const stop = spawnSync(shell[0]!, [...shell.slice(1), "-c", STOP_SCRIPT, "sh", id], { encoding: "utf8" });
    expect(stop.status, stop.stderr).toBe(0);
    expect(await exited).toBe(143); // the CLI's SIGTERM status, passed on by the session's shell
    expect(existsSync(pidFile)).toBe(false);
    // A run already over: the stop line finds nothing and does nothing.
    expect(spawnSync(shell[0]!, [...shell.slice(1), "-c", STOP_SCRIPT, "sh", id]).status).toBe(0);
  });
});
